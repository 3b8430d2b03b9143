"""`ipv2 purify`'s work: a misaligned uLDCT/NDCT pair of volumes, or a PNG dataset, purified
(`ipv2.purify`) into training pairs and evaluation labels in the --out folder.

A pair's finished stages are kept in a cache inside --out while it runs; a run that fails or
is cancelled leaves them there for --resume and says so, a finished run removes them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ipv2.contract import EXIT_CANCELLED, EXIT_USER_ERROR
from ipv2.errors import Cancelled, IPv2Error
from ipv2.io.volumes import read_volume
from ipv2.progress import MonitorFactory
from ipv2.purify import VOLUME_OUTPUTS, prepare_output_folder, purify_png_dataset, purify_volumes, write_purify_outputs
from ipv2.purify.cache import CACHE_FOLDER_NAME, StageCache
from ipv2.purify.checks import swapped_pair_warning
from ipv2.purify.options import PurifyOptions, require_motion_rules_apply

# What the command line builds a run's options with, besides the runs themselves.
__all__ = ["PurifyOptions", "purify_dataset", "purify_pair", "require_motion_rules_apply"]


def purify_pair(
    lq: Path,
    gt: Path,
    out: Path,
    options: PurifyOptions,
    open_monitor: MonitorFactory,
    *,
    overwrite: bool = False,
    resume: bool = False,
    compress: bool = True,
) -> int:
    """The pair `lq` (uLDCT) and `gt` (NDCT) purified into `out`; the exit status. A pair that
    looks swapped is warned about on stderr."""
    out_dir = prepare_output_folder(out, VOLUME_OUTPUTS, overwrite, inputs=[lq, gt])
    lq_volume = read_volume(lq)
    gt_volume = read_volume(gt)
    warning = swapped_pair_warning(lq_volume, gt_volume)
    if warning:
        print(f"ipv2 purify: warning: {warning}", file=sys.stderr)
    cache = StageCache(out_dir / CACHE_FOLDER_NAME, resume=False)
    try:
        with open_monitor() as monitor:
            result = purify_volumes(lq_volume, gt_volume, options, monitor, cache_dir=cache.folder, resume=resume)
            monitor.check()
            paths = write_purify_outputs(result, out_dir, overwrite=overwrite, compress=compress)
    except (Cancelled, KeyboardInterrupt) as stop:
        return _ended_with_cache(cache, "cancelled", EXIT_CANCELLED, stop)
    except IPv2Error as error:
        return _ended_with_cache(cache, f"error: {error}", EXIT_USER_ERROR, error)
    cache.clear()
    print(f"purified pair written to {out_dir}:")
    for path in paths:
        print(f"  {path}")
    return 0


def _ended_with_cache(cache: StageCache, what: str, code: int, error: BaseException) -> int:
    """A failed or cancelled run says what it kept: the finished stages, for --resume."""
    kept = cache.kept_bytes()
    if not kept:
        raise error
    print(
        f"ipv2 purify: {what}; resume cache kept at {cache.folder} ({kept / 1e6:.1f} MB); rerun with --resume "
        "or delete it",
        file=sys.stderr,
    )
    return code


def purify_dataset(
    dataset: Path, out: Path, options: PurifyOptions, open_monitor: MonitorFactory, *, overwrite: bool = False
) -> int:
    """A PNG dataset (lq/ and gt/ slices) purified slice by slice into `out`; the exit status."""
    with open_monitor() as monitor:
        report = purify_png_dataset(dataset, out, options, monitor, overwrite=overwrite)
    print(f"purified {report['slices']} slices written to {out}: lq_bar/, gt_bar/, eval_label/, report.json")
    return 0
