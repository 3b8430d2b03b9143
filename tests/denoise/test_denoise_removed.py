"""`ipv2 denoise --removed`: the removed image (input minus output) beside the result, refused
before any work where it would replace something."""

import numpy as np
import pytest

from ipv2.cli.main import main
from ipv2.io import read_volume, write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume


@pytest.fixture()
def scan(tmp_path):
    rng = np.random.default_rng(0)
    noisy = (chest_like((2, 48, 48), seed=3) + rng.normal(0.0, 40.0, (2, 48, 48))).astype(np.float32)
    volume = Volume(noisy, spacing=(0.8, 0.8, 2.0), origin=(-12.0, 30.5, 7.0))
    return write_volume(volume, tmp_path / "scan.nrrd")


def denoise(scan, out, *extra):
    return main(
        [
            "denoise",
            "--model",
            "nlm",
            "--in",
            str(scan),
            "--out",
            str(out),
            "--progress",
            "none",
            "--no-account",
            *map(str, extra),
        ]
    )


def test_the_removed_image_is_input_minus_output_on_the_input_grid(scan, tmp_path):
    assert denoise(scan, tmp_path / "den.nrrd", "--removed", tmp_path / "removed.nrrd") == 0
    source, result = read_volume(scan), read_volume(tmp_path / "den.nrrd")
    removed = read_volume(tmp_path / "removed.nrrd")
    assert removed.same_geometry(source)
    np.testing.assert_allclose(removed.array, source.array - result.array, atol=1e-3)
    assert np.abs(removed.array).max() > 1.0  # something was removed


def test_an_existing_file_is_kept_and_nothing_written_without_overwrite(scan, tmp_path, capsys):
    (tmp_path / "removed.nrrd").write_text("mine")
    assert denoise(scan, tmp_path / "den.nrrd", "--removed", tmp_path / "removed.nrrd") == 2
    assert "removed.nrrd: already exists" in capsys.readouterr().err
    assert (tmp_path / "removed.nrrd").read_text() == "mine"
    assert not (tmp_path / "den.nrrd").exists()
    assert denoise(scan, tmp_path / "den.nrrd", "--removed", tmp_path / "removed.nrrd", "--overwrite") == 0
    assert read_volume(tmp_path / "removed.nrrd").shape == (2, 48, 48)


@pytest.mark.parametrize(
    "removed, message",
    [
        ("scan.nrrd", "would replace an input"),
        ("den.nrrd", "the result, its account or another output"),
        ("removed.txt", "unknown volume format"),
        ("removed.nii.gz", "--uncompressed"),
    ],
)
def test_a_removed_path_that_cannot_be_written_is_refused_before_any_work(scan, tmp_path, capsys, removed, message):
    before = scan.read_bytes()
    assert denoise(scan, tmp_path / "den.nrrd", "--removed", tmp_path / removed, "--uncompressed") == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "den.nrrd").exists() and scan.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scan.nrrd"]


def test_a_folder_of_scans_is_refused(scan, tmp_path, capsys):
    folder = tmp_path / "scans"
    folder.mkdir()
    scan.rename(folder / "a.nrrd")
    assert denoise(folder, tmp_path / "results", "--removed", tmp_path / "removed.nrrd") == 2
    assert "--removed writes the removed image of one scan" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
