"""Volume files through SimpleITK: NRRD, NIfTI, MHA and DICOM series folders, in HU."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Union

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from ipv2.errors import InputError
from ipv2.io.atomic import atomic_output_path
from ipv2.io.headers import MAX_COMPRESSED_VOXELS, require_plausible_header, require_regular_files
from ipv2.io.native_output import native_output_captured
from ipv2.io.suffixes import VOLUME_SUFFIXES, volume_suffix
from ipv2.volume import Volume

PathLike = Union[str, os.PathLike[str]]


@contextlib.contextmanager
def _itk_warnings_off() -> Iterator[None]:
    """ITK prints its warnings with the path of its own build; where one is replaced by a clear
    refusal of ours, it is only noise."""
    shown = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    try:
        yield
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(shown)


def holds_dicom(folder: PathLike) -> bool:
    """Whether the folder itself (not its subfolders) holds DICOM image files."""
    with native_output_captured(f"looking for DICOM files in {folder}"), _itk_warnings_off():
        return bool(sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder)))


def dicom_series_files(folder: PathLike) -> list[str]:
    """The files of the one DICOM series in `folder`, checked to form one regular grid of CT
    slices (`ipv2.io.dicom_series`) and ordered along the slice normal: file k is slice k of
    the volume `read_volume` returns."""
    from ipv2.io.dicom_series import checked_series_files

    folder = Path(folder)
    with _itk_warnings_off():
        series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    if not series:
        raise InputError(f"{folder}: the folder holds no DICOM series")
    if len(series) > 1:
        raise InputError(
            f"{folder}: the folder holds {len(series)} DICOM series ({', '.join(series)}); "
            "put each series in a folder of its own"
        )
    with _itk_warnings_off():
        files = list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series[0]))
    return checked_series_files(folder, files)


def _read_dicom_series(folder: Path, files: list[str]) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    first = sitk.ImageFileReader()
    first.SetFileName(files[0])
    first.ReadImageInformation()
    columns, rows = first.GetSize()[:2]
    if columns * rows * len(files) > MAX_COMPRESSED_VOXELS:
        raise InputError(
            f"{folder}: {len(files)} slices of {columns}x{rows} are more than the "
            f"{MAX_COMPRESSED_VOXELS:,} voxels a DICOM series may hold here"
        )
    reader.SetFileNames(files)
    # GDCM applies each slice's rescale slope and intercept, so the voxels come out in HU.
    image: sitk.Image = reader.Execute()
    return image


def image_to_volume(image: sitk.Image, source: str = "") -> Volume:
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"{source}: the image has {image.GetNumberOfComponentsPerPixel()} components per "
            "voxel (colour?); a single-channel CT volume is needed"
        )
    array = sitk.GetArrayFromImage(image)
    if image.GetDimension() != 3:
        return Volume(
            array=array.astype(np.float32, copy=False), metadata={"source": source, "dimension": image.GetDimension()}
        )
    return Volume(
        array=array.astype(np.float32, copy=False),
        spacing=image.GetSpacing(),
        origin=image.GetOrigin(),
        direction=image.GetDirection(),
        metadata={"source": source},
    )


def volume_to_image(volume: Volume, dtype: npt.DTypeLike = np.float32) -> sitk.Image:
    image = sitk.GetImageFromArray(np.ascontiguousarray(volume.array, dtype=dtype))
    image.SetSpacing(volume.spacing)
    image.SetOrigin(volume.origin)
    image.SetDirection(volume.direction)
    return image


def _read_file(path: Path) -> sitk.Image:
    """The header first, checked against the file's size, then the voxels."""
    require_regular_files(path)
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.ReadImageInformation()
    require_plausible_header(path, reader)
    image: sitk.Image = reader.Execute()
    return image


def read_volume(path: PathLike) -> Volume:
    """A volume file or a DICOM series folder, as float32 HU with its geometry.

    From a DICOM series, `metadata["dicom_files"]` lists its files in slice order (the source
    of a derived series, `ipv2.io.dicom`)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    files = None
    try:
        with native_output_captured(f"reading {path}"):
            if path.is_dir():
                files = dicom_series_files(path)
                image = _read_dicom_series(path, files)
            else:
                image = _read_file(path)
    except InputError:
        raise
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[-1] if str(error).strip() else "unreadable"
        raise InputError(f"{path}: cannot be read as a volume ({first_line})") from None
    volume = image_to_volume(image, source=str(path))
    if files is not None:
        volume.metadata["dicom_files"] = files
    return volume


def volume_shape(path: PathLike) -> tuple[int, ...]:
    """The (z, y, x) shape of a volume file or DICOM series folder from its headers alone."""
    with native_output_captured(f"reading the header of {path}"):
        return _volume_shape(Path(path))


def _volume_shape(path: Path) -> tuple[int, ...]:
    if not path.is_dir():
        require_regular_files(path)
    reader = sitk.ImageFileReader()
    files = dicom_series_files(path) if path.is_dir() else [str(path)]
    reader.SetFileName(files[0])
    try:
        with _itk_warnings_off():
            reader.ReadImageInformation()
    except RuntimeError:
        raise InputError(f"{path}: cannot be read as a volume") from None
    size = tuple(reader.GetSize())
    if path.is_dir():
        return (len(files), size[1], size[0])
    return tuple(reversed(size))


def require_volume_suffix(path: PathLike) -> None:
    """A path whose suffix names a volume format that can be written."""
    path = Path(path)
    if volume_suffix(path) is None:
        raise InputError(f"{path}: unknown volume format; use one of {', '.join(VOLUME_SUFFIXES)}")


def write_volume(volume: Volume, path: PathLike, dtype: npt.DTypeLike = np.float32, compress: bool = True) -> Path:
    """Writes atomically: the destination is replaced only by a complete file."""
    path = Path(path)
    require_volume_suffix(path)
    image = volume_to_image(volume, dtype=dtype)
    with atomic_output_path(path) as tmp:
        sitk.WriteImage(image, str(tmp), useCompression=compress)
    return path


def write_labelmap(labels: np.ndarray, like: Volume, path: PathLike, compress: bool = True) -> Path:
    """An integer label volume on the grid of `like`."""
    return write_volume(like.with_array(np.asarray(labels)), path, dtype=np.uint8, compress=compress)


def read_labelmap(path: PathLike, like: Volume | None = None) -> np.ndarray:
    volume = read_volume(path)
    if like is not None and volume.shape != like.shape:
        raise InputError(f"{path}: label volume of shape {volume.shape} does not match the image's {like.shape}")
    return volume.array.astype(np.uint8)
