"""Finished stages of a run kept on disk, so that an interrupted run can resume.

Each stage result is stored under a key that hashes the input voxels, their geometry and
every parameter the stage depends on; a changed input or parameter simply misses the cache.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from ipv2.io.atomic import atomic_output_path

CACHE_FOLDER_NAME = ".ipv2-cache"


def fingerprint(*parts: object) -> str:
    """A hex digest of arrays (their bytes, type and shape) and JSON-able values."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, np.ndarray):
            array = np.ascontiguousarray(part)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.data.cast("B"))
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"|")
    return digest.hexdigest()


class StageCache:
    """Arrays per (stage, key) in a folder; reading is only on when resuming."""

    def __init__(self, folder: Path, resume: bool):
        self.folder = Path(folder)
        self.resume = resume

    def _path(self, stage: str, key: str) -> Path:
        return self.folder / f"{stage}-{key}.npz"

    def load(self, stage: str, key: str) -> dict[str, np.ndarray] | None:
        path = self._path(stage, key)
        if not self.resume or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError):
            return None  # a damaged entry is recomputed, not trusted

    def save(self, stage: str, key: str, arrays: dict[str, np.ndarray]) -> None:
        with atomic_output_path(self._path(stage, key)) as tmp:
            with open(tmp, "wb") as handle:
                # numpy's stub reads a name among the arrays as its allow_pickle flag; none is.
                np.savez(handle, **arrays)  # type: ignore[arg-type]

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def kept_bytes(self) -> int:
        """The bytes of the finished stages kept for a resume; a folder without any (nothing
        finished, or only a stage cut off while being written) is removed, and 0 returned."""
        entries = list(self.folder.glob("*.npz")) if self.folder.is_dir() else []
        if not entries:
            self.clear()
            return 0
        return sum(path.stat().st_size for path in entries)
