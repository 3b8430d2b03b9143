"""`ipv2 phantom` on the command line, and its output as input of `ipv2 purify`."""

import importlib.util
import json

import numpy as np
import pytest
import SimpleITK as sitk

from ipv2.cli.main import main
from ipv2.io import read_volume
from ipv2.io.png_dataset import open_png_dataset
from ipv2.phantom import LABEL_NAMES, LABEL_OTHER_GAS, LABEL_TUMOUR
from ipv2.phantom.preview import acquisition_caption, preview_slices
from ipv2.phantom.writer import to_8bit

SMALL = ["--size", "64", "--progress", "none", "--device", "cpu"]


def labels_of(folder):
    return sitk.GetArrayFromImage(sitk.ReadImage(str(folder / "labels.nrrd")))


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantom")
    code = main(
        [
            "phantom",
            "--out",
            str(out),
            "--size",
            "64",
            "--slices",
            "4",
            "--seed",
            "2",
            "--png",
            "--fov-padding",
            "--progress",
            "none",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    return out


def test_writes_every_volume_on_one_grid(phantom_dir):
    ndct = read_volume(phantom_dir / "ndct.nrrd")
    for name in ("uldct", "truth", "labels"):
        volume = read_volume(phantom_dir / f"{name}.nrrd")
        assert volume.shape == (4, 64, 64) and volume.same_geometry(ndct)
    labels = sitk.ReadImage(str(phantom_dir / "labels.nrrd"))
    assert labels.GetPixelID() == sitk.sitkUInt8
    assert set(np.unique(sitk.GetArrayFromImage(labels))) <= set(LABEL_NAMES)
    assert ndct.array.min() == -2048  # the field-of-view padding


def test_deformation_is_a_vector_field_in_mm(phantom_dir):
    field = sitk.ReadImage(str(phantom_dir / "deformation.nrrd"))
    assert field.GetNumberOfComponentsPerPixel() == 3
    assert field.GetSize() == (64, 64, 4)
    magnitude = np.linalg.norm(sitk.GetArrayFromImage(field), axis=-1)
    assert 1.0 < magnitude.max() < 20.0


def test_writes_preview_and_parameters(phantom_dir):
    preview = phantom_dir / "preview.png"
    assert preview.is_file() and preview.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((phantom_dir / "phantom.json").read_text())
    assert record["seed"] == 2 and record["dose"] == 0.02 and record["fov_padding"] is True
    assert not list(phantom_dir.glob(".partial*"))


def test_preview_rows_show_the_upper_chest_the_tumour_and_the_other_gas():
    labels = np.ones((21, 8, 8), np.uint8)
    assert preview_slices(labels) == [17, 10, 3]  # neither: 85%, the middle and 15% of the way up
    labels[12, :3, :3] = LABEL_TUMOUR  # the largest cross-section of the tumour, not its first slice
    labels[13, :2, :2] = LABEL_TUMOUR
    labels[0:2, 5:, 5:] = LABEL_OTHER_GAS
    labels[1, 4, 4] = LABEL_OTHER_GAS  # one voxel more gas in slice 1
    assert preview_slices(labels) == [17, 12, 1]
    labels[17, :4, :4] = LABEL_TUMOUR  # now largest at the upper row: one row for both
    assert preview_slices(labels) == [17, 1]


def test_png_layout_is_the_authors_lung_window(phantom_dir):
    dataset = open_png_dataset(phantom_dir / "png")
    assert len(dataset.names) == 4
    lq, gt = dataset.read_pair(dataset.names[0])
    assert lq.shape == (64, 64) and lq.dtype == np.uint8
    uldct = read_volume(phantom_dir / "uldct.nrrd").array
    np.testing.assert_array_equal(lq, to_8bit(uldct[0]))


def test_bad_option_is_a_user_error(tmp_path, capsys):
    code = main(["phantom", "--out", str(tmp_path / "x"), "--size", "16", "--progress", "none"])
    assert code == 2
    assert "size" in capsys.readouterr().err
    assert not (tmp_path / "x" / "ndct.nrrd").exists()


@pytest.mark.skipif(importlib.util.find_spec("ipv2.purify") is None, reason="purification backend not present")
def test_purify_runs_on_the_phantom(phantom_dir, tmp_path):
    out = tmp_path / "purified"
    code = main(
        [
            "purify",
            "--lq",
            str(phantom_dir / "uldct.nrrd"),
            "--gt",
            str(phantom_dir / "ndct.nrrd"),
            "--out",
            str(out),
            "--progress",
            "none",
            "--weak",
            "tv",
        ]
    )
    assert code == 0
    assert (out / "train_input.nrrd").is_file() and (out / "masks.nrrd").is_file()


# Named acquisitions and the tumour.


def test_variant_sets_the_acquisition_and_given_options_replace_its_values(tmp_path):
    out = tmp_path / "thick"
    assert (
        main(["phantom", "--out", str(out), "--variant", "thick-5mm", "--slices", "4", "--kernel", "sharp", *SMALL])
        == 0
    )
    record = json.loads((out / "phantom.json").read_text())
    assert record["variant"] == "thick-5mm"
    # 4 slices given; their 5-mm spacing and thickness the variant's.
    assert (record["slices"], record["slice_mm"], record["thickness_mm"]) == (4, 5.0, 5.0)
    assert record["kernel"] == "sharp" and record["dose"] == 0.02  # given; the default where neither sets it
    assert read_volume(out / "truth.nrrd").shape == (4, 64, 64)
    assert "variant thick-5mm" in acquisition_caption(record)


def test_variant_settings_that_conflict_with_an_option_name_the_variant(tmp_path, capsys):
    out = tmp_path / "fine"
    assert main(["phantom", "--out", str(out), "--variant", "pixel-0.5mm", *SMALL]) == 2
    error = capsys.readouterr().err
    assert "--fov-mm" in error and "--variant pixel-0.5mm sets --pixel-mm 0.5 --fov-mm 358.4" in error
    assert not (out / "ndct.nrrd").exists()


def test_unknown_variant_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["phantom", "--out", str(tmp_path / "x"), "--variant", "thick-6mm"])
    assert stop.value.code == 2 and "--variant" in capsys.readouterr().err


def test_no_tumour_leaves_out_the_tumour_and_nothing_else(tmp_path):
    # Seed 2 places the tumour at the slab's centre (z 0.4 mm): the 20 mm kept there cut it.
    folders = {flag: tmp_path / (flag or "with") for flag in ("", "--no-tumour")}
    for flag, out in folders.items():
        extra = [flag] if flag else []
        assert (
            main(["phantom", "--out", str(out), "--seed", "2", "--slices", "4", "--slice-mm", "5", *SMALL, *extra]) == 0
        )
    with_tumour, without = labels_of(folders[""]), labels_of(folders["--no-tumour"])
    tumour = with_tumour == LABEL_TUMOUR
    assert tumour.sum() > 50 and not (without == LABEL_TUMOUR).any()
    np.testing.assert_array_equal(without[~tumour], with_tumour[~tumour])
    assert json.loads((folders["--no-tumour"] / "phantom.json").read_text())["tumour"] is False
