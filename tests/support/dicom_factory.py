"""Small DICOM series written with pydicom for the tests: a regular axial CT series by default,
and every way a series met in a hospital departs from that (a missing or doubled slice,
uneven spacing, a gantry tilt, a localizer, another modality, a slice without geometry)."""

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from ipv2.testing import chest_like

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
PIXEL_MM = 0.8
SLICE_MM = 2.5


def ct_slice(
    image: np.ndarray,
    position: Sequence[float],
    orientation: Sequence[float] = AXIAL,
    uids: Optional[dict] = None,
    instance: int = 1,
    modality: str = "CT",
    image_type: Sequence[str] = ("ORIGINAL", "PRIMARY", "AXIAL"),
) -> Dataset:
    """One CT Image slice of HU `image`, stored unsigned with intercept -1024."""
    uids = uids if uids is not None else new_uids()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.ImageType = list(image_type)
    ds.PatientName, ds.PatientID = "Doe^Jane", "P-17"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uids["study"], uids["series"]
    ds.FrameOfReferenceUID, ds.SeriesNumber = uids["frame"], 3
    ds.InstanceNumber = instance
    if position is not None:
        ds.ImagePositionPatient = [float(v) for v in position]
    if orientation is not None:
        ds.ImageOrientationPatient = [float(v) for v in orientation]
    ds.PixelSpacing = [PIXEL_MM, PIXEL_MM]
    ds.SliceThickness = SLICE_MM
    ds.Rows, ds.Columns = image.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelData = (np.round(np.clip(image, -1024, 3071)) + 1024).astype("<u2").tobytes()
    return ds


def new_uids() -> dict:
    return {"study": generate_uid(), "series": generate_uid(), "frame": generate_uid()}


def axial_positions(count: int, spacing: float = SLICE_MM, start=(-19.2, -19.2, -40.0)) -> list:
    return [np.asarray(start) + [0.0, 0.0, k * spacing] for k in range(count)]


def write_series(
    folder: Path,
    positions: Sequence,
    orientation=AXIAL,
    shape=(48, 48),
    seed: int = 3,
    modality: str = "CT",
    orientations: Optional[Sequence] = None,
) -> list:
    """A series of one slice per position (None: no position); returns its files in position order.
    Files are named in reverse order, so a reader must sort by position."""
    folder.mkdir(parents=True, exist_ok=True)
    hu = chest_like((len(positions), *shape), seed=seed)
    uids = new_uids()
    files = []
    for k, position in enumerate(positions):
        slice_orientation = orientations[k] if orientations is not None else orientation
        ds = ct_slice(hu[k], position, slice_orientation, uids, instance=k + 1, modality=modality)
        path = folder / f"IM{len(positions) - k:04d}"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files
