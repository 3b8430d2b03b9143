"""The scans in a folder given to a command that takes many: DICOM series and volume files.

A folder that itself holds DICOM images is one scan (a series). Otherwise each of its entries
that is a volume file (VOLUME_SUFFIXES, a regular file: a named pipe, socket or device of such
a name would block its reader for good) or a subfolder holding a DICOM series is a scan,
named after the file without its suffix or after the subfolder; anything else is passed over.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from ipv2.errors import InputError
from ipv2.io.special_files import is_regular_file
from ipv2.io.suffixes import volume_suffix
from ipv2.io.volumes import holds_dicom

PathLike = Union[str, os.PathLike[str]]


@dataclass(frozen=True)
class Scan:
    path: Path
    name: str
    dicom: bool


def _volume_name(path: Path) -> str | None:
    """The name without its volume suffix, or None when the file is not a volume."""
    suffix = volume_suffix(path)
    return path.name[: -len(suffix)] if suffix is not None and len(path.name) > len(suffix) else None


def is_scan_folder(path: PathLike) -> bool:
    """Whether `path` is a folder of scans rather than one scan (a file or a series folder)."""
    path = Path(path)
    return path.is_dir() and not holds_dicom(path)


def find_scans(folder: PathLike, flag: str = "--in") -> list[Scan]:
    """The scans in `folder`, sorted by name; refused when there are none or two share a name."""
    folder = Path(folder)
    scans = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if holds_dicom(entry):
                scans.append(Scan(entry, entry.name, dicom=True))
        elif (name := _volume_name(entry)) is not None and is_regular_file(entry):
            scans.append(Scan(entry, name, dicom=False))
    if not scans:
        raise InputError(
            f"{flag} {folder}: the folder holds no DICOM series, no volume files and no subfolders with a DICOM series"
        )
    seen: dict[str, Scan] = {}
    for scan in scans:
        if scan.name in seen:
            raise InputError(
                f"{flag} {folder}: {seen[scan.name].path.name} and {scan.path.name} would both be "
                f"written as {scan.name}; rename one"
            )
        seen[scan.name] = scan
    return scans


def rank_from_env() -> tuple[int, int]:
    """(rank, world size) as torchrun sets them in RANK and WORLD_SIZE; (0, 1) without."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
    except ValueError:
        raise InputError(
            f"RANK={os.environ.get('RANK')!r} and WORLD_SIZE={os.environ.get('WORLD_SIZE')!r} "
            "must be integers (torchrun sets them)"
        ) from None
    if world < 1 or not 0 <= rank < world:
        raise InputError(f"RANK={rank} and WORLD_SIZE={world}: the rank must be from 0 to WORLD_SIZE - 1")
    return rank, world


def share_of_rank(scans: list[Scan], rank: int, world: int) -> list[Scan]:
    """Rank r of W takes scans r, r + W, r + 2W, ...: every scan exactly once over the ranks,
    with at most one more on some ranks than on others."""
    return scans[rank::world]
