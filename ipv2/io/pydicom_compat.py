"""The pydicom calls whose spelling differs between pydicom 2.4 (which Slicer 5.8 and 5.10 ship)
and pydicom 3, so that the backend runs in Slicer's Python without replacing its pydicom."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom import Dataset


def pydicom_major() -> int:
    import pydicom

    return int(pydicom.__version__.split(".")[0])


def save_as_file_format(dataset: Dataset, path: str | os.PathLike[str]) -> None:
    """Writes `dataset` as a DICOM file: preamble, file meta, and the data set encoded in the
    transfer syntax its file meta names."""
    if pydicom_major() >= 3:
        dataset.save_as(path, enforce_file_format=True)
        return
    # pydicom 2 encodes by the data set's own flags, which must agree with the file meta
    syntax = dataset.file_meta.TransferSyntaxUID
    dataset.is_little_endian = syntax.is_little_endian
    dataset.is_implicit_VR = syntax.is_implicit_VR
    dataset.save_as(path, write_like_original=False)
