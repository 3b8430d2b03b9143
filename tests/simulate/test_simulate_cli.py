"""`ipv2 simulate` end to end on small volumes."""

import json

import numpy as np
import pytest

from ipv2.cli.main import main
from ipv2.io import read_volume, write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume


@pytest.fixture
def ndct_file(tmp_path):
    volume = Volume(
        chest_like((3, 40, 40), seed=6),
        spacing=(0.8, 0.8, 2.5),
        origin=(-12.0, 4.0, 30.0),
        direction=(1, 0, 0, 0, -1, 0, 0, 0, 1),
    )
    path = tmp_path / "ndct.nrrd"
    write_volume(volume, path)
    return path, volume


@pytest.mark.parametrize("mode", ["physical", "seed"])
def test_simulate_writes_a_noisy_volume_on_the_input_grid(tmp_path, ndct_file, mode, capsys):
    source, volume = ndct_file
    out = tmp_path / "out" / "uldct.nii.gz"
    code = main(
        [
            "simulate",
            "--in",
            str(source),
            "--out",
            str(out),
            "--dose",
            "0.05",
            "--mode",
            mode,
            "--seed",
            "4",
            "--progress",
            "none",
        ]
    )
    assert code == 0
    result = read_volume(out)
    assert result.same_geometry(volume)
    assert result.array.dtype == np.float32
    assert np.abs(result.array - volume.array).mean() > 5.0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["mode"] == mode and summary["slices"] == 3
    # Same seed, same file content.
    again = tmp_path / "again.nrrd"
    main(
        [
            "simulate",
            "--in",
            str(source),
            "--out",
            str(again),
            "--dose",
            "0.05",
            "--mode",
            mode,
            "--seed",
            "4",
            "--progress",
            "none",
        ]
    )
    np.testing.assert_array_equal(read_volume(again).array, result.array)


def test_json_progress_lines_for_the_slicer_module(tmp_path, ndct_file, capsys):
    from ipv2.progress import parse_progress_line

    source, _ = ndct_file
    assert main(["simulate", "--in", str(source), "--out", str(tmp_path / "o.mha"), "--progress", "json"]) == 0
    records = [parse_progress_line(line) for line in capsys.readouterr().out.splitlines()]
    records = [r for r in records if r]
    assert records[-1]["done"] == records[-1]["total"] == 3


def test_input_dose_option_reaches_the_simulator(tmp_path, ndct_file):
    source, volume = ndct_file
    clean = tmp_path / "clean.nrrd"
    inserted = tmp_path / "inserted.nrrd"
    common = ["--dose", "0.5", "--seed", "1", "--progress", "none", "--no-electronic-noise"]
    main(["simulate", "--in", str(source), "--out", str(clean)] + common)
    main(["simulate", "--in", str(source), "--out", str(inserted), "--input-dose", "0.6"] + common)
    residual = {
        name: np.std(read_volume(path).array[:, 12:28, 12:28] - volume.array[:, 12:28, 12:28])
        for name, path in (("clean", clean), ("inserted", inserted))
    }
    # From 0.6 to 0.5 only a little noise is missing; from a clean input all of it is.
    assert residual["inserted"] < residual["clean"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dose", "0"], "dose fraction"),
        (["--dose", "1.2"], "dose fraction"),
        (["--input-dose", "0.01"], "input dose"),
    ],
)
def test_bad_options_write_nothing(tmp_path, ndct_file, extra, message, capsys):
    source, _ = ndct_file
    out = tmp_path / "out.nrrd"
    assert main(["simulate", "--in", str(source), "--out", str(out), "--progress", "none"] + extra) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_bad_inputs_write_nothing(tmp_path, capsys):
    flat = tmp_path / "flat.nrrd"
    write_volume(Volume(np.zeros((2, 20, 20), dtype=np.float32)), flat)
    mr_like = tmp_path / "mr.nrrd"
    write_volume(Volume(np.random.default_rng(0).uniform(0, 900, (2, 20, 20)).astype(np.float32)), mr_like)
    nan = tmp_path / "nan.nrrd"
    array = chest_like((2, 20, 20))
    array[0, 5, 5] = np.nan
    write_volume(Volume(array), nan)
    two_d = tmp_path / "slice.nrrd"
    import SimpleITK as sitk

    sitk.WriteImage(sitk.GetImageFromArray(chest_like((1, 20, 20))[0]), str(two_d))
    cases = [
        (tmp_path / "missing.nrrd", "no such file"),
        (flat, "same value"),
        (mr_like, "Hounsfield"),
        (nan, "NaN"),
        (two_d, "3D"),
    ]
    for source, message in cases:
        out = tmp_path / "result.nrrd"
        assert main(["simulate", "--in", str(source), "--out", str(out), "--progress", "none"]) == 2
        assert message in capsys.readouterr().err
        assert not out.exists()
    out = tmp_path / "result.png"
    assert main(["simulate", "--in", str(flat), "--out", str(out)]) == 2
    assert "unknown volume format" in capsys.readouterr().err
    assert not out.exists()
