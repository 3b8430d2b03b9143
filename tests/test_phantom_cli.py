"""`ipv2 phantom` on the command line, and its output as input of `ipv2 purify`."""

import json
import importlib.util

import numpy as np
import pytest
import SimpleITK as sitk

from ipv2.cli.main import main
from ipv2.io import read_volume
from ipv2.io.png_dataset import open_png_dataset
from ipv2.phantom import LABEL_NAMES
from ipv2.phantom.writer import to_8bit


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantom")
    code = main(["phantom", "--out", str(out), "--size", "64", "--slices", "4", "--seed", "2", "--png",
                 "--fov-padding", "--progress", "none", "--device", "cpu"])
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
    code = main(["purify", "--lq", str(phantom_dir / "uldct.nrrd"), "--gt", str(phantom_dir / "ndct.nrrd"),
                 "--out", str(out), "--progress", "none", "--weak", "tv"])
    assert code == 0
    assert (out / "train_input.nrrd").is_file() and (out / "masks.nrrd").is_file()
