"""Writing files so that a crash or cancel never leaves a half-written result.

Each output is written to a hidden temporary name beside its destination and renamed into
place only when complete; a rename within one folder is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Callable, Union

from ipv2.errors import InputError

PathLike = Union[str, os.PathLike[str]]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def missing_folders(folder: Path) -> list[Path]:
    """`folder` and those of its parents that do not exist, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


@contextlib.contextmanager
def atomic_output_path(destination: PathLike) -> Iterator[Path]:
    """Yields a temporary path with the destination's suffixes; renames it on success."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(destination.suffixes) or ".tmp"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.stem}.partial-", suffix=suffix, dir=destination.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates owner-only files; outputs get the permissions of any other new file.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, destination)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_output_dir(destination: PathLike) -> Iterator[Path]:
    """Yields a temporary folder; on success its files are moved into `destination`.

    Files already in `destination` that the run does not produce are left alone. On failure,
    the folders made for the run that are left empty are removed again.
    """
    destination = Path(destination)
    created = missing_folders(destination)
    destination.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=destination))
    done = False
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_current_umask())
        for item in sorted(tmp.iterdir()):
            target = destination / item.name
            if target.is_dir() and item.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
        done = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not done:
            for folder in created:  # deepest first
                with contextlib.suppress(OSError):
                    folder.rmdir()


@contextlib.contextmanager
def atomic_output_folder(
    destination: PathLike, require_replaceable: Callable[[Path], None] | None = None
) -> Iterator[Path]:
    """Yields a temporary folder beside `destination`; on success it is renamed to
    `destination`, so the folder appears whole (a DICOM series: its reader never sees half).

    An existing `destination` is replaced only after `require_replaceable(destination)` has
    passed again at that moment (it raises when the folder holds anything the run may not
    remove; without it an existing folder is never replaced): it is renamed aside and removed
    once the new folder is in place.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_current_umask())
        earlier = None
        if destination.exists() or destination.is_symlink():
            if require_replaceable is None:
                raise InputError(f"{destination}: already exists; give --overwrite to replace it")
            require_replaceable(destination)
            earlier = Path(tempfile.mkdtemp(prefix=f".{destination.name}.replaced-", dir=destination.parent))
            os.replace(destination, earlier / destination.name)
        try:
            os.replace(tmp, destination)
        except OSError:
            if earlier is not None:  # the earlier folder goes back where it was
                os.replace(earlier / destination.name, destination)
                earlier.rmdir()
            raise
        if earlier is not None:
            shutil.rmtree(earlier, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def is_same_file(path: PathLike, other: PathLike) -> bool:
    """Whether two paths name one file: equal once links are resolved, or one inode (a hard link)."""
    path, other = Path(path), Path(other)
    if path.resolve() == other.resolve():
        return True
    try:
        return os.path.samefile(path, other)
    except OSError:  # one of them does not exist yet
        return False


def require_new_outputs(
    outputs: Iterable[PathLike | None], inputs: Iterable[PathLike | None] = (), overwrite: bool = False
) -> None:
    """Refuses, before any work, an output that is one of the inputs or that already exists."""
    input_paths = [Path(path) for path in inputs if path]
    for output in outputs:
        if not output:
            continue
        path = Path(output)
        if any(is_same_file(path, source) for source in input_paths):
            raise InputError(f"{output}: the output would replace an input; choose another output path")
        if path.exists() and not overwrite:
            raise InputError(f"{output}: already exists; give --overwrite to replace it")
