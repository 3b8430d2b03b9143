import json

import numpy as np
import pytest
import SimpleITK as sitk

import ipv2.simulate
from ipv2.cli.main import main
from ipv2.io.png_dataset import read_png_slice
from ipv2.purify.options import DEFAULT_MODE
from ipv2.testing import chest_like
from tests.support.purify_inputs import SPACING, purify, write_pair, write_png_dataset

HAS_SIMULATOR = hasattr(ipv2.simulate, "simulate_low_dose") and hasattr(ipv2.simulate, "simulate_seed_u8")
needs_simulator = pytest.mark.skipif(not HAS_SIMULATOR, reason="the low-dose simulator is not available")


@pytest.mark.parametrize(
    "extra", [pytest.param([], marks=needs_simulator), ["--no-add-noise", "--weak", "tv"], ["--mode", "ipv1"]]
)
def test_cli_writes_every_output_for_a_volume_pair(tmp_path, capsys, extra):
    lq_path, gt_path = write_pair(tmp_path)
    out = tmp_path / "out"
    assert purify("--lq", lq_path, "--gt", gt_path, "--out", out, "--device", "cpu", *extra) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["masks.nrrd", "train_input.nrrd", "train_target.nrrd", "eval_label.nrrd", "report.json"])
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(out / "masks.nrrd")))
    assert set(np.unique(labels)) == {0, 1, 2}
    label = sitk.ReadImage(str(out / "eval_label.nrrd"))
    assert label.GetSize() == (64, 64, 4) and label.GetSpacing() == pytest.approx(SPACING)
    report = json.loads((out / "report.json").read_text())
    assert report["volumes_ml"]["lung"] > 0
    assert str(out) in capsys.readouterr().out


def test_cli_reports_progress_as_json_lines(tmp_path, capsys):
    lq_path, gt_path = write_pair(tmp_path)
    assert (
        main(
            [
                "purify",
                "--lq",
                str(lq_path),
                "--gt",
                str(gt_path),
                "--out",
                str(tmp_path / "out"),
                "--no-add-noise",
                "--progress",
                "json",
            ]
        )
        == 0
    )
    assert "IPV2_PROGRESS" in capsys.readouterr().out


def bad_pairs():
    shape = (4, 64, 64)
    good = chest_like(shape, seed=3)
    nan = good.copy()
    nan[1, 5, 5] = np.nan
    return {
        "shape": (dict(gt_array=chest_like((4, 48, 64))), "differ in size"),
        "spacing": (dict(gt_spacing=(0.8, 0.8, 2.5)), "differ in voxel spacing"),
        "2D": (dict(lq_array=good[:1]), None),
        "NaN": (dict(lq_array=nan), "NaN"),
        "constant": (dict(gt_array=np.full(shape, -1000.0)), "same value"),
        "not CT": (dict(lq_array=np.random.default_rng(0).uniform(0, 255, shape)), "Hounsfield"),
    }


@pytest.mark.parametrize("case", list(bad_pairs()))
def test_cli_refuses_bad_input_with_one_message_and_writes_nothing(tmp_path, capsys, case):
    kwargs, message = bad_pairs()[case]
    if case == "2D":
        lq_path, gt_path = write_pair(tmp_path)
        image = sitk.GetImageFromArray(chest_like((1, 64, 64))[0])
        sitk.WriteImage(image, str(lq_path))
        message = "3D volume"
    else:
        lq_path, gt_path = write_pair(tmp_path, **kwargs)
    out = tmp_path / "out"
    assert purify("--lq", lq_path, "--gt", gt_path, "--out", out) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and message in errors[0]
    assert not out.exists()


def test_cli_keeps_existing_outputs_unless_told_to_overwrite(tmp_path, capsys):
    lq_path, gt_path = write_pair(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("earlier")
    assert purify("--lq", lq_path, "--gt", gt_path, "--out", out, "--no-add-noise") == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "report.json").read_text() == "earlier"
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    assert purify("--lq", lq_path, "--gt", gt_path, "--out", out, "--no-add-noise", "--overwrite") == 0
    assert json.loads((out / "report.json").read_text())["mode"] == DEFAULT_MODE


def nrrd_encoding(path):
    """The `encoding:` field of a NRRD header (the text before the first blank line)."""
    header = path.read_bytes().split(b"\n\n", 1)[0].decode("ascii")
    return next(line.split(":", 1)[1].strip() for line in header.splitlines() if line.startswith("encoding:"))


def test_cli_uncompressed_writes_raw_volumes_with_the_same_voxels(tmp_path):
    lq_path, gt_path = write_pair(tmp_path)
    options = ["--lq", lq_path, "--gt", gt_path, "--device", "cpu", "--no-add-noise", "--weak", "tv"]
    assert purify(*options, "--out", tmp_path / "gzip") == 0
    assert purify(*options, "--out", tmp_path / "raw", "--uncompressed") == 0
    for name in ("masks.nrrd", "train_input.nrrd", "train_target.nrrd", "eval_label.nrrd"):
        assert (nrrd_encoding(tmp_path / "gzip" / name), nrrd_encoding(tmp_path / "raw" / name)) == ("gzip", "raw")
        gzip, raw = (sitk.ReadImage(str(tmp_path / folder / name)) for folder in ("gzip", "raw"))
        np.testing.assert_array_equal(sitk.GetArrayFromImage(gzip), sitk.GetArrayFromImage(raw))
        assert gzip.GetSpacing() == raw.GetSpacing() and gzip.GetOrigin() == raw.GetOrigin()


def test_cli_refuses_uncompressed_png_slices(tmp_path, capsys):
    write_png_dataset(tmp_path / "dataset")
    assert purify("--dataset", tmp_path / "dataset", "--out", tmp_path / "out", "--uncompressed") == 2
    assert "--uncompressed applies to volume pairs" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_needs_one_kind_of_input(tmp_path, capsys):
    lq_path, gt_path = write_pair(tmp_path)
    assert purify("--lq", lq_path, "--out", tmp_path / "out") == 2
    assert purify("--lq", lq_path, "--gt", gt_path, "--dataset", tmp_path, "--out", tmp_path / "out") == 2
    assert "not both" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [pytest.param([], marks=needs_simulator), ["--no-add-noise"]])
def test_cli_purifies_a_png_dataset_under_the_same_names(tmp_path, capsys, extra):
    lq, gt = write_png_dataset(tmp_path / "data")
    out = tmp_path / "out"
    assert purify("--dataset", tmp_path / "data", "--out", out, "--device", "cpu", *extra) == 0
    for folder in ("lq_bar", "gt_bar", "eval_label"):
        assert sorted(p.name for p in (out / folder).iterdir()) == ["a.png", "b.png", "c.png"]
    target = read_png_slice(out / "gt_bar" / "b.png")
    label = read_png_slice(out / "eval_label" / "b.png")
    assert target.shape == (64, 64) and target.dtype == np.uint8
    if extra:
        np.testing.assert_array_equal(read_png_slice(out / "lq_bar" / "b.png"), lq[1])
        background = target == gt[1]
        assert 0.2 < background.mean() < 1.0
    else:
        np.testing.assert_array_equal(target, gt[1])
    assert not np.array_equal(label, lq[1])
    report = json.loads((out / "report.json").read_text())
    assert report["slices"] == 3 and report["masks"]["lung_fraction"] > 0
    assert "3 slices" in capsys.readouterr().out


def test_cli_refuses_a_png_dataset_with_unmatched_names_and_writes_nothing(tmp_path, capsys):
    write_png_dataset(tmp_path / "data", names=("a.png", "b.png"), gt_names=("a.png", "x.png"))
    out = tmp_path / "out"
    assert purify("--dataset", tmp_path / "data", "--out", out, "--no-add-noise") == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and "b.png" in errors[0] and "x.png" in errors[0]
    assert not out.exists()
