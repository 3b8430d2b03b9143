"""Output paths checked before any work: a run that would fail to write its result after an
hour of computing is refused at the start instead."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Union

from ipv2.errors import InputError

PathLike = Union[str, os.PathLike[str]]


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _require_writable_folder(folder: Path, flag: str, output: Path) -> None:
    """Creating (and removing) a file is the only test that also holds for root, read-only
    file systems and network shares, where permission bits say too little."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".ipv2-write-test-", dir=folder)
    except OSError as error:
        raise InputError(f"{flag} {output}: cannot write in the folder {folder} ({error.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def require_writable_output(path: PathLike, flag: str = "--out", folder: bool = False) -> Path:
    """A file output (or with `folder` a folder output) that can be created or replaced.

    Refuses: a file output that names a folder, a folder output that names a file, a path
    under a regular file, and a nearest existing folder where no file can be created.
    """
    path = Path(path)
    if not str(path):
        raise InputError(f"{flag}: give a path")
    if folder and path.exists() and not path.is_dir():
        raise InputError(f"{flag} {path}: an existing file; give a folder to write into")
    if not folder and path.is_dir():
        raise InputError(f"{flag} {path}: a folder; give the file to write, e.g. {path / 'result.nrrd'}")
    existing = _nearest_existing(path if folder else path.absolute().parent)
    if not existing.is_dir():
        raise InputError(f"{flag} {path}: {existing} is a file, so nothing can be written under it")
    _require_writable_folder(existing, flag, path)
    return path


def require_separate_folder(path: PathLike, inputs: Iterable[PathLike] = (), flag: str = "--out") -> Path:
    """Refuses a folder output that is the current folder or one above it (`.`, `..`, `/`, a
    home folder written out), or the folder of an input or one above it: such a folder is never
    replaced by a result, whatever its contents."""
    path = Path(path)
    resolved = path.resolve()
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise InputError(
            f"{flag} {path}: the current folder or one above it; a DICOM series is written as a "
            f"folder of its own, so name a new one, e.g. {path / 'denoised'}"
        )
    for source in inputs:
        source_path = Path(source).resolve()
        if resolved == source_path or resolved in source_path.parents:
            raise InputError(f"{flag} {path}: replacing it would delete the input {source}; choose a folder outside it")
    return path


def require_writable_series_output(path: PathLike, flag: str = "--out", inputs: Iterable[PathLike] = ()) -> Path:
    """A folder output written whole and renamed into place (`ipv2.io.atomic.atomic_output_folder`,
    a DICOM series): not an existing file, not the current folder, an input's folder or one above
    them (`require_separate_folder`), and its parent (or nearest existing) folder writable, since
    the series is written beside it first."""
    path = Path(path)
    if not str(path):
        raise InputError(f"{flag}: give a path")
    if path.exists() and not path.is_dir():
        raise InputError(f"{flag} {path}: an existing file; give a folder to write the DICOM series into")
    require_separate_folder(path, inputs, flag)
    existing = _nearest_existing(path.absolute().parent)
    if not existing.is_dir():
        raise InputError(f"{flag} {path}: {existing} is a file, so nothing can be written under it")
    _require_writable_folder(existing, flag, path)
    return path


def require_uncompressible(path: PathLike) -> None:
    """`--uncompressed` with an output whose format is gzip by its name (.nii.gz) cannot be honoured."""
    if str(path).lower().endswith(".gz"):
        raise InputError(f"--uncompressed: {path} names a gzip format; use .nrrd, .nii or .mha")
