"""A DICOM series checked slice by slice before any voxel is read.

GDCM groups a folder's files into a series and ITK stacks them on a regular grid: origin at the
first slice, spacing from the slice positions, whatever they are. A series with a missing,
doubled or truncated slice, uneven spacing, a gantry tilt, a localizer or another modality
among its files thus came out as a wrong regular grid, and a derived series claimed positions
millimetres away from the source slices it references. Here every file's header is read first
(pydicom, without pixels) and the series is refused, with one message naming the file and the
problem, unless

- every DICOM file in the folder is part of the series (GDCM leaves out files it cannot read:
  a truncated slice);
- every slice is a single-frame CT image (Modality CT, not a secondary capture), not a
  localizer, with ImagePositionPatient, ImageOrientationPatient and PixelSpacing;
- all slices share one orientation (orthonormal row and column cosines), one matrix and one
  pixel spacing;
- the positions lie on one line along the slice normal n = row x column (no gantry tilt or
  shear: at most a tenth of a pixel across it), at distinct, evenly spaced steps (each step
  within GAP_TOLERANCE_MM + GAP_TOLERANCE_FRACTION of the median step).

Such a series is exactly a regular grid, so a volume file of it is exact, and a derived series
copies each source slice's own position and orientation. The files come back ordered along n,
which is the order ITK stacks them in when given the list.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from ipv2.errors import InputError
from ipv2.io.special_files import is_regular_file

if TYPE_CHECKING:
    from pydicom import Dataset

PathLike = Union[str, os.PathLike[str]]
ORIENTATION_TOLERANCE = 1e-3  # on direction cosines: about 0.06 degrees
GAP_TOLERANCE_MM = 0.02  # positions are often written to 0.01 mm
GAP_TOLERANCE_FRACTION = 0.01
ACROSS_TOLERANCE_PIXELS = 0.1
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
DICOM_MAGIC_OFFSET = 128


@dataclass(frozen=True)
class SliceHeader:
    path: str
    position: np.ndarray
    orientation: np.ndarray  # row cosines then column cosines
    pixel_spacing: tuple[float, float]  # (row spacing, column spacing) as DICOM orders them
    matrix: tuple[int, int]  # (rows, columns)


def _looks_like_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(DICOM_MAGIC_OFFSET)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def _require_nothing_left_out(folder: Path, files: Sequence[str]) -> None:
    taken = {os.path.realpath(path) for path in files}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not is_regular_file(entry) or os.path.realpath(entry) in taken:
            continue
        if _looks_like_dicom(entry):
            raise InputError(
                f"{entry}: a DICOM file the series reader cannot read (truncated or damaged), so the "
                f"series in {folder} is unreadable in part; restore the file or export the series again"
            )


def _numbers(header: Dataset, keyword: str, count: int, path: str) -> np.ndarray:
    value = header.get(keyword)
    try:
        numbers = np.asarray([float(v) for v in value], dtype=float) if value is not None else None
    except (TypeError, ValueError):
        numbers = None
    if numbers is None or numbers.shape != (count,) or not np.all(np.isfinite(numbers)):
        raise InputError(
            f"{path}: the slice has no valid {keyword}, so its place in the patient is unknown; "
            "a CT series with the geometry of each slice is needed"
        )
    return numbers


def _slice_header(path: str) -> SliceHeader:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError) as error:
        raise InputError(
            f"{path}: the DICOM header cannot be read ({error}); the series is unreadable in part"
        ) from None
    frames = header.get("NumberOfFrames")
    if frames is not None and int(frames or 1) > 1:
        raise InputError(
            f"{path}: a multi-frame DICOM file ({int(frames)} frames in one file); a CT series of "
            "one file per slice is needed"
        )
    modality = str(header.get("Modality", "")).strip()
    if modality != "CT":
        raise InputError(
            f"{path}: Modality {modality or '(none)'}, not CT; only a CT series has intensities in Hounsfield units"
        )
    if str(header.get("SOPClassUID", "")).startswith(SECONDARY_CAPTURE_PREFIX):
        raise InputError(
            f"{path}: a secondary capture (a picture of an image), not a CT image; give the CT series itself"
        )
    image_type = [str(value).upper() for value in (header.get("ImageType") or [])]
    if "LOCALIZER" in image_type:
        raise InputError(f"{path}: a localizer (scout) image among the slices; move it out of the series folder")
    position = _numbers(header, "ImagePositionPatient", 3, path)
    orientation = _numbers(header, "ImageOrientationPatient", 6, path)
    spacing = _numbers(header, "PixelSpacing", 2, path)
    if np.any(spacing <= 0):
        raise InputError(f"{path}: PixelSpacing {tuple(spacing)} must be positive")
    row, column = orientation[:3], orientation[3:]
    if (
        abs(np.linalg.norm(row) - 1) > ORIENTATION_TOLERANCE
        or abs(np.linalg.norm(column) - 1) > ORIENTATION_TOLERANCE
        or abs(float(np.dot(row, column))) > ORIENTATION_TOLERANCE
    ):
        raise InputError(f"{path}: ImageOrientationPatient {tuple(orientation)} is not two perpendicular unit vectors")
    matrix = (int(header.get("Rows") or 0), int(header.get("Columns") or 0))
    return SliceHeader(path, position, orientation, (float(spacing[0]), float(spacing[1])), matrix)


def _describe_step(gap: float, step: float) -> str:
    multiple = gap / step
    if round(multiple) >= 2 and abs(gap - round(multiple) * step) <= _gap_tolerance(step):
        missing = round(multiple) - 1
        return f"{missing} slice{'s are' if missing > 1 else ' is'} missing"
    return "the slice spacing is uneven"


def _gap_tolerance(step: float) -> float:
    return GAP_TOLERANCE_MM + GAP_TOLERANCE_FRACTION * step


def _require_one_grid(slices: list[SliceHeader]) -> list[SliceHeader]:
    """`slices` ordered along the normal, refused unless they form one regular grid."""
    first = slices[0]
    for item in slices[1:]:
        if not np.allclose(item.orientation, first.orientation, atol=ORIENTATION_TOLERANCE):
            raise InputError(
                f"{item.path}: orientation {tuple(np.round(item.orientation, 4))} differs from "
                f"{first.path}'s {tuple(np.round(first.orientation, 4))}; the series mixes "
                "orientations (a localizer or a reformat?)"
            )
        if item.matrix != first.matrix:
            raise InputError(
                f"{item.path}: {item.matrix[0]}x{item.matrix[1]} pixels where {first.path} has "
                f"{first.matrix[0]}x{first.matrix[1]}; the slices of a series share one matrix"
            )
        if not np.allclose(item.pixel_spacing, first.pixel_spacing, rtol=1e-3):
            raise InputError(
                f"{item.path}: PixelSpacing {item.pixel_spacing} where {first.path} has "
                f"{first.pixel_spacing}; the slices of a series share one pixel size"
            )
    normal = np.cross(first.orientation[:3], first.orientation[3:])
    slices = sorted(slices, key=lambda item: float(np.dot(item.position, normal)))
    if len(slices) < 2:
        return slices
    along = np.array([float(np.dot(item.position, normal)) for item in slices])
    gaps = np.diff(along)
    step = float(np.median(gaps))
    for k, gap in enumerate(gaps):
        if gap <= GAP_TOLERANCE_MM:
            raise InputError(
                f"{slices[k].path} and {slices[k + 1].path} lie at one position ({along[k]:.2f} mm "
                "along the slice normal): the series holds a slice twice"
            )
    across_tolerance = ACROSS_TOLERANCE_PIXELS * min(first.pixel_spacing)
    for item, where in zip(slices[1:], along[1:]):
        offset = item.position - slices[0].position - (where - along[0]) * normal
        if np.linalg.norm(offset) > across_tolerance:
            raise InputError(
                f"{item.path}: the slice lies {np.linalg.norm(offset):.2f} mm off the line through "
                f"{slices[0].path} along the slice normal (gantry tilt or shear); the slices do not "
                "stack into a volume; resample the series to an untilted grid first"
            )
    for k, gap in enumerate(gaps):
        if abs(gap - step) > _gap_tolerance(step):
            raise InputError(
                f"{slices[k].path} and {slices[k + 1].path} are {gap:.2f} mm apart where the other "
                f"slices are {step:.2f} mm apart: {_describe_step(gap, step)}; a series of evenly "
                "spaced slices is needed"
            )
    return slices


def checked_series_files(folder: PathLike, files: Sequence[str]) -> list[str]:
    """The files of the series in `folder` (as GDCM found them), checked as the module says and
    ordered along the slice normal; raises InputError naming the file and the problem."""
    folder = Path(folder)
    _require_nothing_left_out(folder, files)
    slices = _require_one_grid([_slice_header(str(path)) for path in files])
    return [item.path for item in slices]
