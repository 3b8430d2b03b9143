"""`ipv2 masks`' work: the region masks of single scans, each taken as both scans of a pair.

A scan without its partner (a denoised scan, a clinical series) has its masks computed with
itself on both sides of `ipv2.masks.compute_region_masks`. The output is the labelmap that
`ipv2 purify` writes (LABEL_* values of `ipv2.contract`) on the scan's grid. A folder of scans
(`ipv2.io.scans`: the same rules as `ipv2 denoise`) gives one labelmap per scan in the --out
folder, `<scan name>.nrrd`; finished ones are skipped on a rerun.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ipv2.contract import EXIT_USER_ERROR
from ipv2.errors import InputError
from ipv2.input_checks import require_ct
from ipv2.io.atomic import require_new_outputs
from ipv2.io.lock import rank_zero_output_lock
from ipv2.io.outputs import require_writable_output
from ipv2.io.scans import find_scans, is_scan_folder
from ipv2.io.volumes import read_volume, volume_shape, write_labelmap
from ipv2.masks import compute_region_masks
from ipv2.progress import PROGRESS_PREFIX, MonitorFactory
from ipv2.volume import Volume

SCANS_STAGE = "masks of scans"
LABELMAP_SUFFIX = ".nrrd"


def run_masks(input: str, out: str, overwrite: bool, json_progress: bool, open_monitor: MonitorFactory) -> int:
    """Runs `ipv2 masks`: one scan's labelmap, or one for each scan of a folder; its exit status."""
    if not Path(input).exists():
        raise InputError(f"--in {input}: no such file or folder")
    if is_scan_folder(input):
        return _run_folder(Path(input), Path(out), overwrite, json_progress, open_monitor)
    return _run_one(Path(input), Path(out), overwrite, json_progress, open_monitor)


def _labelmap_of(scan_path: Path, open_monitor: MonitorFactory) -> tuple[np.ndarray, Volume]:
    """The scan's labels and the scan (for its grid)."""
    volume = read_volume(scan_path)
    require_ct(volume, str(scan_path))
    with open_monitor() as monitor:
        masks = compute_region_masks(volume, volume, monitor=monitor)
    return masks.labelmap(), volume


def _run_one(input: Path, out: Path, overwrite: bool, json_progress: bool, open_monitor: MonitorFactory) -> int:
    require_writable_output(out)
    if not out.name.lower().endswith(LABELMAP_SUFFIX):
        raise InputError(f"--out {out}: the labelmap is written as {LABELMAP_SUFFIX}")
    with rank_zero_output_lock(out):
        require_new_outputs([out], [input], overwrite)
        labels, volume = _labelmap_of(input, open_monitor)
        write_labelmap(labels, volume, out)
    if not json_progress:
        print(f"region masks written to {out}")
    return 0


def _is_finished(scan_path: Path, output: Path) -> bool:
    try:
        return output.is_file() and volume_shape(output) == volume_shape(scan_path)
    except InputError:
        return False


def _run_folder(input: Path, out_dir: Path, overwrite: bool, json_progress: bool, open_monitor: MonitorFactory) -> int:
    if out_dir.resolve() == input.resolve():
        raise InputError(f"--out {out_dir} is the --in folder; choose another folder for the masks")
    require_writable_output(out_dir, folder=True)
    scans = find_scans(input)
    summary: dict[str, list] = {"done": [], "skipped": [], "failed": []}
    with rank_zero_output_lock(out_dir, folder=True):
        for scan in scans:
            output = out_dir / f"{scan.name}{LABELMAP_SUFFIX}"
            try:
                if not overwrite and output.exists():
                    if not _is_finished(scan.path, output):
                        raise InputError(
                            f"{output} exists but is not the masks of {scan.path.name}; delete it or give --overwrite"
                        )
                    summary["skipped"].append(scan.name)
                    continue
                labels, volume = _labelmap_of(scan.path, open_monitor)
                write_labelmap(labels, volume, output)
                summary["done"].append(scan.name)
                if not json_progress:
                    print(f"{scan.name}: masks written to {output}", flush=True)
            except InputError as error:
                summary["failed"].append({"scan": scan.name, "reason": str(error)})
    _print_summary(summary, len(scans), json_progress)
    return EXIT_USER_ERROR if summary["failed"] else 0


def _print_summary(summary: dict, count: int, json_progress: bool) -> None:
    if json_progress:
        record = {"stage": SCANS_STAGE, "done": count, "total": count, "summary": summary}
        print(PROGRESS_PREFIX + json.dumps(record), flush=True)
        return
    print(
        f"{count} scans: {len(summary['done'])} with new masks, {len(summary['skipped'])} skipped "
        f"(already done), {len(summary['failed'])} failed"
    )
    for item in summary["failed"]:
        print(f"  failed  {item['scan']}: {item['reason']}")
