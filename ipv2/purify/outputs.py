"""Writing a run's results into one folder, all at once and never over earlier results."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from ipv2.contract import (
    EVAL_LABEL_FILE,
    MASKS_FILE,
    PURIFY_OUTPUT_FILES,
    REPORT_FILE,
    TRAIN_INPUT_FILE,
    TRAIN_TARGET_FILE,
)
from ipv2.errors import InputError
from ipv2.io import atomic_output_dir, require_new_outputs, write_labelmap, write_volume

if TYPE_CHECKING:
    from ipv2.purify.pipeline import PurifyResult

PathLike = Union[str, os.PathLike[str]]
VOLUME_OUTPUTS = PURIFY_OUTPUT_FILES
DATASET_OUTPUTS = ("lq_bar", "gt_bar", "eval_label", REPORT_FILE)


def prepare_output_folder(
    out_dir: PathLike, names: Iterable[str], overwrite: bool, inputs: Iterable[PathLike | None] = ()
) -> Path:
    """Checks, before any work, that the outputs can go to `out_dir`; creates nothing."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: the output path is a file, not a folder")
    require_new_outputs([out_dir / name for name in names], inputs, overwrite)
    return out_dir


def write_json(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def write_purify_outputs(
    result: PurifyResult, out_dir: PathLike, overwrite: bool = False, compress: bool = True
) -> list[Path]:
    """Writes masks, training pair, label and report; they appear together or not at all.

    The volumes take the uLDCT's geometry, gzip-compressed unless `compress` is False (raw
    NRRD reads back about four times as fast). Existing outputs are replaced only with
    `overwrite`; other files in the folder are left alone.
    """
    out_dir = prepare_output_folder(out_dir, VOLUME_OUTPUTS, overwrite)
    like = result.train_input
    with atomic_output_dir(out_dir) as staging:
        write_labelmap(
            np.asarray(result.masks.labelmap(), dtype=np.uint8), like, staging / MASKS_FILE, compress=compress
        )
        write_volume(result.train_input, staging / TRAIN_INPUT_FILE, compress=compress)
        write_volume(result.train_target, staging / TRAIN_TARGET_FILE, compress=compress)
        write_volume(result.eval_label, staging / EVAL_LABEL_FILE, compress=compress)
        write_json(result.report, staging / REPORT_FILE)
    return [out_dir / name for name in VOLUME_OUTPUTS]
