"""A derived DICOM series: a result written back into the study its input series came from.

SimpleITK reads DICOM well but writes only what it knows of the image, not the derived
series a PACS files beside the original; pydicom writes each slice as a CT Image with

- new: Series Instance UID, one SOP Instance UID per slice, ImageType DERIVED\\SECONDARY\\AXIAL,
  SeriesDescription (naming the model), DerivationDescription, a SourceImageSequence that
  points at the input slice, series, content and instance dates;
- kept from each input slice: the KEPT_TAGS (patient, study, frame of reference, institution,
  acquisition), so the series lands in the same study and frame of reference; the Type 2
  attributes the input lacks are written empty, as the CT Image IOD requires;
- the equipment: Manufacturer IPv2, ManufacturerModelName "ipv2 denoise", SoftwareVersions;
- from each source slice, copied: ImagePositionPatient, ImageOrientationPatient and
  PixelSpacing (`ipv2.io.read_volume` has refused a series whose slices are not one regular
  grid, so these agree with the volume's grid; a source slice without them takes the grid's:
  origin + k * dz * n, n the third column of the direction matrix); SliceLocation =
  position . n; SliceThickness from the input slice (the reconstruction's thickness) or else dz;
- the voxels as signed 16-bit stored values s with HU = m * s + b (RescaleSlope m,
  RescaleIntercept b = 0): m = 1 while every |HU| <= 32767 (1 HU steps, as scanners store
  CT), else m = max |HU| / 32767 so that the range fits. s = round(HU / m).

Files are named 00001.dcm, 00002.dcm, ... in slice order, written with Explicit VR Little
Endian and a file meta header, into a hidden folder renamed into place when complete.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

from ipv2 import __version__
from ipv2.errors import InputError
from ipv2.io.atomic import atomic_output_folder
from ipv2.volume import Volume

if TYPE_CHECKING:
    from pydicom import Dataset
    from pydicom.valuerep import DSfloat

PathLike = Union[str, os.PathLike[str]]
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
IMAGE_TYPE = ("DERIVED", "SECONDARY", "AXIAL")
MAX_STORED = 32767
SERIES_DESCRIPTION_LENGTH = 64  # the LO value representation's limit
SERIES_NUMBER_OFFSET = 1000  # the derived series sorts after its source in a viewer's list
SLICE_FILE_NAME = re.compile(r"\d{5,}\.dcm")
KEPT_TAGS = (
    "SpecificCharacterSet",
    # patient
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "PatientSize",
    "PatientWeight",
    "OtherPatientIDsSequence",
    "PatientIdentityRemoved",
    "DeidentificationMethod",
    # study
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyDescription",
    # frame of reference, patient position
    "FrameOfReferenceUID",
    "PositionReferenceIndicator",
    "PatientPosition",
    "BodyPartExamined",
    # where, and the acquisition the voxels come from
    "InstitutionName",
    "KVP",
    "ConvolutionKernel",
    "AcquisitionNumber",
    "AcquisitionDate",
    "AcquisitionTime",
    # display
    "WindowCenter",
    "WindowWidth",
)


# Type 2 attributes of the CT Image IOD: present in every valid instance, empty where unknown.
REQUIRED_EMPTY_IF_UNKNOWN = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
    "PositionReferenceIndicator",
    "KVP",
    "AcquisitionNumber",
)


def rescale_for(array: np.ndarray) -> tuple[float, float]:
    """(RescaleSlope m, RescaleIntercept b) for HU values `array` (module docstring)."""
    largest = float(np.max(np.abs(array))) if array.size else 0.0
    return (1.0, 0.0) if largest <= MAX_STORED else (largest / MAX_STORED, 0.0)


def _ds(value: float) -> DSfloat:
    from pydicom.valuerep import DSfloat

    return DSfloat(float(value), auto_format=True)  # a DS value holds at most 16 characters


def require_derivable(volume: Volume) -> None:
    """Refuses, before any work, a volume that was not read from a series of one file per
    slice (`ipv2.io.read_volume` of a DICOM folder): a derived series copies each source slice's
    tags. A multi-frame file, one file holding every slice, is such a case."""
    files = volume.metadata.get("dicom_files")
    source = volume.metadata.get("source", "the input")
    if not files:
        raise InputError(f"{source}: not a DICOM series; a derived DICOM series needs one as input")
    if len(files) != volume.shape[0]:
        raise InputError(
            f"{source}: {len(files)} DICOM files hold {volume.shape[0]} slices (multi-frame?); "
            "a derived series is written from one file per slice"
        )


def _source_headers(volume: Volume, source_files: Sequence[PathLike]) -> list[Dataset]:
    import pydicom

    if len(source_files) != volume.shape[0]:
        raise InputError(
            f"the DICOM input has {len(source_files)} slices but the result {volume.shape[0]}; "
            "a derived series needs one source slice per slice"
        )
    # force: GDCM has read these files as DICOM already, some without the optional preamble
    return [pydicom.dcmread(str(path), stop_before_pixels=True, force=True) for path in source_files]


def _slice_dataset(
    source: Dataset, stored: np.ndarray, position: np.ndarray, shared: dict[str, Any], instance_number: int
) -> Dataset:
    """One slice: the kept tags of its source slice, the series' `shared` values, its own UID,
    position and pixels."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(CT_IMAGE_STORAGE)
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    for keyword in KEPT_TAGS:
        element = source.data_element(keyword) if keyword in source else None
        if element is not None:
            setattr(ds, keyword, element.value)
    for keyword in REQUIRED_EMPTY_IF_UNKNOWN:
        if keyword not in ds:
            setattr(ds, keyword, None)
    for keyword, value in shared.items():
        setattr(ds, keyword, value)
    ds.SOPInstanceUID = sop_uid
    ds.InstanceNumber = instance_number
    reference = Dataset()
    reference.ReferencedSOPClassUID = source.get("SOPClassUID", CT_IMAGE_STORAGE)
    reference.ReferencedSOPInstanceUID = source.get("SOPInstanceUID", "")
    ds.SourceImageSequence = [reference]
    ds.ImagePositionPatient = [_ds(value) for value in position]
    ds.Rows, ds.Columns = stored.shape
    ds.PixelData = np.ascontiguousarray(stored).astype("<i2").tobytes()
    return ds


def _source_geometry(source: Dataset, keyword: str, from_grid: npt.ArrayLike) -> np.ndarray:
    """The source slice's own value of a geometry tag, copied rather than recomputed (read_volume
    has checked that the slices form one regular grid); the volume's grid where it has none."""
    value = source.get(keyword)
    return np.asarray([float(v) for v in value] if value else from_grid, dtype=float)


IMAGE_COMMENTS_LENGTH = 10240  # LT


def write_derived_series(
    volume: Volume,
    folder: PathLike,
    source_files: Sequence[PathLike],
    description: str,
    derivation: str = "",
    comments: str = "",
) -> Path:
    """Writes `volume` (HU, on the grid of the DICOM series `source_files`, in slice order) as a
    derived series into the folder `folder`, atomically; returns it. An existing `folder` is
    replaced only when it holds nothing but an earlier derived series (`require_replaceable_series`).
    `comments` goes into every slice's ImageComments, a standard attribute PACS keep and
    viewers show (private attributes are often dropped)."""
    from pydicom.uid import generate_uid

    from ipv2.io.pydicom_compat import save_as_file_format

    folder = Path(folder)
    sources = _source_headers(volume, source_files)
    slope, intercept = rescale_for(volume.array)
    stored = np.round((volume.array - intercept) / slope).astype(np.int16)
    direction = np.asarray(volume.direction, dtype=float).reshape(3, 3)
    row_axis, column_axis, normal = direction[:, 0], direction[:, 1], direction[:, 2]
    dx, dy, dz = volume.spacing
    now = datetime.datetime.now()
    date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    shared = {
        "SOPClassUID": CT_IMAGE_STORAGE,
        "Modality": "CT",
        "ImageType": list(IMAGE_TYPE),
        # the equipment that made these images is this software; the scanner's is in the source
        "Manufacturer": "IPv2",
        "ManufacturerModelName": "ipv2 denoise",
        "SoftwareVersions": __version__,
        "SeriesInstanceUID": generate_uid(),
        "SeriesNumber": int(sources[0].get("SeriesNumber") or 0) + SERIES_NUMBER_OFFSET,
        "SeriesDescription": description[:SERIES_DESCRIPTION_LENGTH],
        "DerivationDescription": (derivation or f"{description}; ipv2 {__version__}")[:1024],
        "SeriesDate": date,
        "ContentDate": date,
        "InstanceCreationDate": date,
        "SeriesTime": time,
        "ContentTime": time,
        "InstanceCreationTime": time,
        "ImageOrientationPatient": [_ds(value) for value in (*row_axis, *column_axis)],
        "PixelSpacing": [_ds(dy), _ds(dx)],
        "SamplesPerPixel": 1,
        "PhotometricInterpretation": "MONOCHROME2",
        "BitsAllocated": 16,
        "BitsStored": 16,
        "HighBit": 15,
        "PixelRepresentation": 1,
        "RescaleSlope": _ds(slope),
        "RescaleIntercept": _ds(intercept),
        "RescaleType": "HU",
    }
    if comments:
        shared["ImageComments"] = comments[:IMAGE_COMMENTS_LENGTH]
    origin = np.asarray(volume.origin, dtype=float)
    with atomic_output_folder(folder, require_replaceable_series) as tmp:
        for k, source in enumerate(sources):
            position = _source_geometry(source, "ImagePositionPatient", origin + k * dz * normal)
            ds = _slice_dataset(source, stored[k], position, shared, k + 1)
            ds.ImageOrientationPatient = [
                _ds(v) for v in _source_geometry(source, "ImageOrientationPatient", (*row_axis, *column_axis))
            ]
            ds.PixelSpacing = [_ds(v) for v in _source_geometry(source, "PixelSpacing", (dy, dx))]
            ds.SliceLocation = _ds(float(np.dot(position, normal)))
            ds.SliceThickness = _ds(source.get("SliceThickness") or dz)
            save_as_file_format(ds, tmp / f"{k + 1:05d}.dcm")
    return folder


def _written_here(header: Dataset) -> bool:
    return (
        str(header.get("Manufacturer", "")) == "IPv2"
        and "DERIVED" in list(header.get("ImageType", []))
        and bool(header.get("SeriesInstanceUID"))
    )


def foreign_entries(folder: PathLike) -> list[str]:
    """The entries of `folder` that are not files of one derived series `write_derived_series`
    wrote: anything but regular files named 00001.dcm, ... holding one IPv2 derived series."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    foreign: list[str] = []
    series: dict[str, list[str]] = {}
    for entry in sorted(Path(folder).iterdir()):
        if entry.is_symlink() or not entry.is_file() or not SLICE_FILE_NAME.fullmatch(entry.name):
            foreign.append(entry.name)
            continue
        try:
            header = pydicom.dcmread(str(entry), stop_before_pixels=True)
        except (InvalidDicomError, OSError, ValueError, EOFError):
            foreign.append(entry.name)
            continue
        if not _written_here(header):
            foreign.append(entry.name)
        else:
            series.setdefault(str(header.SeriesInstanceUID), []).append(entry.name)
    if len(series) > 1:  # two series in one folder: not one result of this program
        foreign.extend(name for names in list(series.values())[1:] for name in names)
    return sorted(foreign)


def require_replaceable_series(folder: PathLike, flag: str = "--out") -> None:
    """Refuses to replace a folder that holds anything but one derived series written here:
    `--overwrite` replaces an earlier result, never the user's other files."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise InputError(
            f"{flag} {folder}: not a folder holding a derived series; --overwrite replaces only a "
            "series folder that ipv2 wrote; choose another --out"
        )
    foreign = foreign_entries(folder)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise InputError(
            f"{flag} {folder}: holds {shown}, not part of a derived series that ipv2 wrote; "
            "--overwrite replaces only such a series, so choose a new folder for --out"
        )


def series_is_complete(folder: PathLike, slices: int) -> bool:
    """Whether `folder` holds one derived series of `slices` slices, as `write_derived_series`
    leaves it (it writes through a rename, so only a foreign or damaged folder fails this)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    files = sorted(Path(folder).glob("*.dcm"))
    if len(files) != slices:
        return False
    series: list[str] = []
    for path in files:
        try:
            header = pydicom.dcmread(str(path), stop_before_pixels=True)
        except (InvalidDicomError, OSError):
            return False
        if "DERIVED" not in list(header.get("ImageType", [])):
            return False
        series.append(str(header.get("SeriesInstanceUID", "")))
    return len(set(series)) == 1 and bool(series[0])
