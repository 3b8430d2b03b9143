import numpy as np
import pytest
import SimpleITK as sitk

from ipv2.errors import InputError
from ipv2.io import read_volume, write_labelmap, write_volume
from ipv2.io.png_dataset import open_png_dataset, read_png_slice, write_png_slice


@pytest.mark.parametrize("suffix", [".nrrd", ".nii.gz", ".mha"])
def test_round_trip_keeps_voxels_and_geometry(tmp_path, ct_volume, suffix):
    path = write_volume(ct_volume, tmp_path / f"ct{suffix}")
    back = read_volume(path)
    np.testing.assert_allclose(back.array, ct_volume.array)
    np.testing.assert_allclose(back.spacing, ct_volume.spacing, rtol=1e-6)
    np.testing.assert_allclose(back.origin, ct_volume.origin, atol=1e-5)
    np.testing.assert_allclose(back.direction, ct_volume.direction, atol=1e-6)


def test_dicom_series_is_read_in_hu_with_rescale(tmp_path, ct_volume):
    # The writer stores (HU - intercept) / slope, as scanners do; the reader must undo it.
    hu = np.round(ct_volume.array).astype(np.int16)
    folder = tmp_path / "dicom"
    folder.mkdir()
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for k in range(hu.shape[0]):
        image = sitk.GetImageFromArray(hu[k])
        image.SetSpacing(ct_volume.spacing[:2])
        tags = {
            "0008|0060": "CT",
            "0020|000d": "1.2.3",
            "0020|000e": "1.2.3.4",
            "0020|0032": f"0\\0\\{k * ct_volume.spacing[2]}",
            "0020|0013": str(k + 1),
            "0020|0037": "1\\0\\0\\0\\1\\0",
            "0028|1052": "-1024",
            "0028|1053": "1",
            "0008|0018": f"1.2.3.4.{k + 1}",
        }
        for key, value in tags.items():
            image.SetMetaData(key, value)
        writer.SetFileName(str(folder / f"{k:03d}.dcm"))
        writer.Execute(image)
    volume = read_volume(folder)
    assert volume.shape == hu.shape
    np.testing.assert_allclose(volume.array, hu.astype(np.float32), atol=0.5)
    np.testing.assert_allclose(volume.spacing, ct_volume.spacing, rtol=1e-3)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_volume(tmp_path / "absent.nrrd")


def test_corrupt_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.nrrd"
    path.write_bytes(b"NRRD0004\ngarbage\n")
    with pytest.raises(InputError, match="cannot be read"):
        read_volume(path)


def test_failed_write_keeps_the_existing_file(tmp_path, ct_volume, monkeypatch):
    path = write_volume(ct_volume, tmp_path / "out.nrrd")
    before = path.read_bytes()

    def broken_write(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sitk, "WriteImage", broken_write)
    with pytest.raises(RuntimeError):
        write_volume(ct_volume.with_array(ct_volume.array + 1), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nrrd"]


def test_labelmap_is_written_as_uint8(tmp_path, ct_volume):
    labels = (ct_volume.array > -500).astype(np.uint8)
    path = write_labelmap(labels, ct_volume, tmp_path / "labels.nrrd")
    image = sitk.ReadImage(str(path))
    assert image.GetPixelID() == sitk.sitkUInt8
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), labels)


def _png_dataset(root, lq_names, gt_names):
    for sub, names in (("lq", lq_names), ("gt", gt_names)):
        (root / sub).mkdir(parents=True)
        for name in names:
            write_png_slice(np.full((16, 16), 7, np.uint8), root / sub / name)


def test_png_dataset_lists_matched_names(tmp_path):
    _png_dataset(tmp_path, ["a.png", "b.png"], ["a.png", "b.png"])
    dataset = open_png_dataset(tmp_path)
    assert dataset.names == ["a.png", "b.png"]
    lq, gt = dataset.read_pair("a.png")
    assert lq.dtype == np.uint8 and lq.shape == (16, 16) and int(gt[0, 0]) == 7


def test_png_dataset_unmatched_names_are_listed(tmp_path):
    _png_dataset(tmp_path, ["a.png", "b.png"], ["a.png", "c.png"])
    with pytest.raises(InputError) as error:
        open_png_dataset(tmp_path)
    assert "b.png" in str(error.value) and "c.png" in str(error.value)


def test_png_dataset_missing_folder(tmp_path):
    (tmp_path / "lq").mkdir()
    with pytest.raises(InputError, match="gt/"):
        open_png_dataset(tmp_path)


def test_png_slice_rejects_colour(tmp_path):
    from skimage import io as skio

    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200
    skio.imsave(str(tmp_path / "c.png"), rgb, check_contrast=False)
    with pytest.raises(InputError, match="colour"):
        read_png_slice(tmp_path / "c.png")


def test_written_files_get_ordinary_permissions(tmp_path, ct_volume):
    import os

    mask = os.umask(0o022)
    try:
        path = write_volume(ct_volume, tmp_path / "perm.nrrd")
    finally:
        os.umask(mask)
    assert (path.stat().st_mode & 0o777) == 0o644
