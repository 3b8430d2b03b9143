"""A digest of the phantom's source code, for caches of generated pairs.

The phantom is deterministic from its seed and its code: a pair kept on disk is the pair of
today's code only when the code is unchanged, so a cache names its files by this digest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def phantom_code_digest(length: int = 12, folder: Path | None = None) -> str:
    """The first `length` hex digits of the SHA-256 of the names and contents of the Python
    files in `folder` (the phantom package's own by default)."""
    digest = hashlib.sha256()
    for source in sorted(Path(folder or Path(__file__).parent).glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:length]
