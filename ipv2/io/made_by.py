"""What made a result: a hidden record beside each result a run over a folder of scans
writes, so that a rerun counts as done only the results made with its own settings.

The record `.ipv2-made-by/NAME.json` beside the result holds the recipe (model and strength, or method and noise
level) and the result's modification time in nanoseconds when it was written; a result
replaced or changed since (a single run into the folder, a file added to a series) no longer
matches its record, and a result without one was made elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Union

from ipv2.io.atomic import atomic_output_path

PathLike = Union[str, os.PathLike[str]]
RECORD_FOLDER = ".ipv2-made-by"


def record_path(result: PathLike) -> Path:
    result = Path(result)
    return result.parent / RECORD_FOLDER / f"{result.name}.json"


def record_made_by(result: PathLike, recipe: str) -> None:
    """Records that `result`, as it is now, was made with `recipe`."""
    with atomic_output_path(record_path(result)) as tmp:
        tmp.write_text(json.dumps({"recipe": recipe, "mtime_ns": os.stat(result).st_mtime_ns}))


def made_by(result: PathLike) -> str | None:
    """The recipe `result` was made with, or None when it has no record or changed since."""
    try:
        record = json.loads(record_path(result).read_text())
        unchanged = record["mtime_ns"] == os.stat(result).st_mtime_ns
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(record.get("recipe")) if unchanged else None
