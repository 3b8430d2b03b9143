"""The volume file suffixes the readers and writers take besides DICOM folders, and which one a name ends with.

Apart from `ipv2.io.volumes` so that the command line's help can name them without loading
SimpleITK.
"""

from __future__ import annotations

import os
from pathlib import Path

VOLUME_SUFFIXES = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd")


def volume_suffix(path: str | os.PathLike[str]) -> str | None:
    """The volume suffix the file name of `path` ends with, in lower case (the longest: .nii.gz
    rather than a bare .gz), or None."""
    name = Path(path).name.lower()
    return next((suffix for suffix in sorted(VOLUME_SUFFIXES, key=len, reverse=True) if name.endswith(suffix)), None)
