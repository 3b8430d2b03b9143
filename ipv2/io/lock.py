"""One run at a time on an output: an exclusive lock file beside it, taken at the start.

Two runs on one `--out` used to check that the output was free, work, and both write, the
later silently replacing the earlier. Now a run first creates its lock file with
O_CREAT | O_EXCL (atomic: of two runs exactly one succeeds), holding its PID and host, and
removes it at the end, whatever the outcome. The second run is refused at once. The lock of a
file output is `.NAME.ipv2-lock` beside it; that of a folder output is `.ipv2-lock` inside it
(where the run must be able to write anyway; the folder's parent may not be writable).

One rule covers single runs and runs over a folder of scans: a run is also refused while
another holds the folder lock of any folder above its output (a batch writing R/ owns every
result in it), and a batch takes each scan's result lock, the one a single run on that result
takes, before writing it. So two runs never write the same result.

A lock left by a run that was killed is stale, and the next run takes it over, when

- no process holds an flock on it (POSIX: the kernel drops a dead holder's flock), and
- it names a PID on this host that no longer runs, or it is empty and older than
  EMPTY_LOCK_GRACE_S seconds (a creator killed before writing it).

The taker holds the stale file's flock while it removes it, so two runs that both found it
stale cannot both take it. A lock from another host is never taken over: the message names
the file to delete.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Union

from ipv2.errors import InputError
from ipv2.io.atomic import missing_folders

try:
    import fcntl
except ImportError:  # Windows: the PID rule alone
    fcntl = None  # type: ignore[assignment]  # no module there; _flock checks for None

PathLike = Union[str, os.PathLike[str]]
LOCK_SUFFIX = ".ipv2-lock"
EMPTY_LOCK_GRACE_S = 30.0


def lock_path(output: PathLike, folder: bool = False) -> Path:
    output = Path(output).absolute()
    return output / LOCK_SUFFIX if folder else output.parent / f".{output.name}{LOCK_SUFFIX}"


def _flock(fd: int) -> bool:
    """Takes the flock without waiting; True when no one else holds it (or flock is unavailable)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _owner(fd: int) -> dict[str, Any] | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace")
    try:
        owner = json.loads(text)
    except json.JSONDecodeError:
        return None
    return owner if isinstance(owner, dict) else None


def _pid_runs(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process, or a platform that cannot tell: assume alive
    return True


def _stale(fd: int, lock: Path) -> bool:
    """With the file's flock held: whether its run has ended (see the module docstring)."""
    owner = _owner(fd)
    if owner is None:
        return time.time() - os.fstat(fd).st_mtime > EMPTY_LOCK_GRACE_S
    return owner.get("host") == socket.gethostname() and not _pid_runs(owner.get("pid"))


def _refusal(flag: str, output: Path, lock: Path, inside: Path | None = None) -> InputError:
    owner = None
    with contextlib.suppress(OSError):
        fd = os.open(lock, os.O_RDONLY)
        try:
            owner = _owner(fd)
        finally:
            os.close(fd)
    who = (
        f"another ipv2 run (PID {owner.get('pid')} on {owner.get('host')}, started {owner.get('started')})"
        if owner
        else "another ipv2 run"
    )
    what = f"is writing the folder {inside} that holds it" if inside is not None else "is writing it"
    return InputError(
        f"{flag} {output}: {who} {what}; wait for that run to end, or delete {lock} if no such run exists"
    )


def _take_over_if_stale(lock: Path) -> bool:
    """Removes a stale lock; True when it did (or the lock vanished meanwhile)."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        if not _flock(fd) or not _stale(fd, lock):
            return False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        return True
    finally:
        os.close(fd)  # closing drops the flock


def _is_held(lock: Path) -> bool:
    """Whether another run holds `lock` now (this process's own lock is not counted)."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        owner = _owner(fd)
        if owner is not None and owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
            return False
        return not (_flock(fd) and _stale(fd, lock))
    finally:
        os.close(fd)  # closing drops the flock


def _require_no_folder_lock_above(output: Path, flag: str, within: PathLike | None) -> None:
    """Refuses an output inside a folder that a run of a folder of scans holds: that run would
    write, or count as done, what this one writes. `within` (a folder this run's own job holds)
    and the folders above it are not asked."""
    skip: set[Path] = set()
    if within is not None:
        held = Path(within).absolute()
        skip = {held, *held.parents}
    for folder in Path(output).absolute().parents:
        if folder in skip:
            continue
        lock = folder / LOCK_SUFFIX
        if lock.is_file() and _is_held(lock):
            raise _refusal(flag, output, lock, inside=folder)


@contextlib.contextmanager
def output_lock(
    output: PathLike, flag: str = "--out", folder: bool = False, within: PathLike | None = None
) -> Iterator[Path]:
    """Holds the exclusive lock of the file (or with `folder` the folder) `output` for the block;
    refuses with InputError, naming `flag`, while another run holds it or holds the lock of a
    folder above it (`within`: a folder lock of this run's own job, not counted). Folders created
    for the lock and left empty are removed."""
    output = Path(output)
    _require_no_folder_lock_above(output, flag, within)
    lock = lock_path(output, folder)
    created = missing_folders(lock.parent)
    fd = None
    try:
        for _ in range(2):
            try:
                lock.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
                break
            except FileExistsError:
                if not _take_over_if_stale(lock):
                    raise _refusal(flag, output, lock) from None
            except OSError as error:
                raise InputError(f"{flag} {output}: cannot create the lock file {lock} ({error.strerror})") from None
        if fd is None:
            raise _refusal(flag, output, lock)
        _flock(fd)
        started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": started}).encode())
        try:
            yield lock
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
    finally:
        if fd is not None:
            os.close(fd)
        for made in created:  # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()


@contextlib.contextmanager
def rank_zero_output_lock(output: PathLike, folder: bool = False) -> Iterator[None]:
    """The exclusive lock of `output` (`output_lock`); under torchrun rank 0 alone holds it,
    the other ranks writing their share under it."""
    if int(os.environ.get("RANK", "0")) != 0:
        yield
        return
    with output_lock(output, folder=folder):
        yield
