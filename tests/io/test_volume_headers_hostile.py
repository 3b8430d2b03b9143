"""Untrusted volume files: a header is checked against the data before any voxel is allocated."""

import bz2
import gzip

import numpy as np
import pytest
import SimpleITK as sitk

from ipv2.errors import InputError
from ipv2.io import read_volume, write_volume
from ipv2.io.headers import DEFLATE_MAX_RATIO, MAX_COMPRESSED_VOXELS
from ipv2.volume import Volume


def _nrrd(path, sizes, encoding, payload, extra=""):
    header = (
        f"NRRD0004\ntype: short\ndimension: {len(sizes)}\nsizes: {' '.join(map(str, sizes))}\n"
        f"endian: little\nencoding: {encoding}\n{extra}\n"
    ).encode()
    path.write_bytes(header + payload)
    return path


@pytest.fixture
def no_voxel_reading(monkeypatch):
    """Fails the test if the reader gets as far as the voxels."""

    def refuse(self, *args):
        raise AssertionError("the voxels were read")

    monkeypatch.setattr(sitk.ImageFileReader, "Execute", refuse)


def test_raw_header_claiming_gigabytes_in_a_few_bytes_is_refused_before_reading(tmp_path, no_voxel_reading):
    path = _nrrd(tmp_path / "forged.nrrd", (2048, 2048, 512), "raw", b"\0" * 60)
    with pytest.raises(InputError, match=r"2048x2048x512 voxels \(4,294,967,296 bytes\) but the file holds 60 "):
        read_volume(path)


def test_truncated_raw_files_of_every_format_are_refused(tmp_path):
    volume = Volume(np.arange(4 * 16 * 16, dtype=np.float32).reshape(4, 16, 16))
    for name in ("v.nrrd", "v.mha", "v.nii"):
        path = write_volume(volume, tmp_path / name, compress=False)
        path.write_bytes(path.read_bytes()[:-100])  # 25 float32 voxels short
        with pytest.raises(InputError, match="16x16x4 voxels"):
            read_volume(path)


def test_detached_data_file_too_small_is_refused(tmp_path, no_voxel_reading):
    (tmp_path / "v.raw").write_bytes(b"\0" * (8 * 8 * 2 * 2 - 1))  # one byte short of 8x8x2 shorts
    path = _nrrd(tmp_path / "v.nhdr", (8, 8, 2), "raw", b"", extra="data file: v.raw\n")
    with pytest.raises(InputError, match="holds 255 bytes"):
        read_volume(path)


def test_gzip_claim_beyond_the_deflate_ratio_is_refused(tmp_path, no_voxel_reading):
    payload = gzip.compress(b"\0" * 1000)
    claimed = (256, 256, 256)  # 32 MiB of shorts, far beyond DEFLATE_MAX_RATIO times the payload
    assert 2 * np.prod(claimed) > DEFLATE_MAX_RATIO * len(payload)
    path = _nrrd(tmp_path / "bomb.nrrd", claimed, "gzip", payload)
    with pytest.raises(InputError, match="more than .* compressed bytes can hold"):
        read_volume(path)


def test_compressed_claim_above_the_voxel_cap_is_refused(tmp_path, no_voxel_reading):
    side = int(np.ceil((MAX_COMPRESSED_VOXELS + 1) ** (1 / 3)))
    path = _nrrd(tmp_path / "big.nrrd", (side, side, side), "bzip2", bz2.compress(b"\0" * 100))
    with pytest.raises(InputError, match="compressed volumes of more than 1,073,741,824 voxels"):
        read_volume(path)


@pytest.mark.parametrize(
    "name,compress",
    [
        ("a.nrrd", False),
        ("b.nrrd", True),
        ("c.mha", False),
        ("d.mha", True),
        ("e.nii", False),
        ("f.nii.gz", True),
        ("g.nhdr", False),
        ("h.mhd", False),
    ],
)
def test_honest_files_still_read(tmp_path, name, compress):
    array = np.random.default_rng(0).normal(size=(3, 12, 10)).astype(np.float32)
    image = sitk.GetImageFromArray(array)
    sitk.WriteImage(image, str(tmp_path / name), useCompression=compress)
    np.testing.assert_array_equal(read_volume(tmp_path / name).array, array)


def test_folder_without_dicom_is_refused_without_itk_noise(tmp_path, capfd):
    (tmp_path / "notes.txt").write_text("not a scan")
    with pytest.raises(InputError, match="holds no DICOM series"):
        read_volume(tmp_path)
    err = capfd.readouterr().err
    assert "WARNING" not in err and "itk" not in err.lower()
