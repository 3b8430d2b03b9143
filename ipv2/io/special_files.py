"""Paths that name something other than a regular file: a named pipe, a socket or a device
called `scan.nrrd` would have a reader block for good on its first read, where neither Ctrl-C
nor SIGTERM reaches it. `os.stat` answers without opening, so such a path is refused first."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Union

from ipv2.errors import InputError

PathLike = Union[str, os.PathLike[str]]
KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


def is_regular_file(path: PathLike) -> bool:
    """Whether `path` (followed through links) is a regular file; never opens it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def require_regular_file(path: PathLike, what: str = "") -> Path:
    """Refuses, without opening it, a path that is not a regular file; `what` prefixes the message."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise InputError(f"{what}{path}: cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in KINDS if test(mode)), "not a regular file")
        raise InputError(f"{what}{path}: {kind}, not a file; a volume is read from a regular file")
    return path
