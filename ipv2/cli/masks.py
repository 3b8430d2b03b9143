"""`ipv2 masks`: the region masks of single scans, each taken as both scans of a pair.

A scan without its partner (a denoised scan, a clinical series) has its masks computed with
itself on both sides of `ipv2.masks.compute_region_masks`. The output is the labelmap that
`ipv2 purify` writes (LABEL_* values of `ipv2.contract`) on the scan's grid. A folder of scans
(`ipv2.io.scans`: the same rules as `ipv2 denoise`) gives one labelmap per scan in the --out
folder, `<scan name>.nrrd`; finished ones are skipped on a rerun.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ipv2.cli.common import add_overwrite_option, add_progress_option, monitor_from_args, rank_zero_output_lock
from ipv2.contract import LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG
from ipv2.errors import InputError
from ipv2.io.atomic import require_new_outputs
from ipv2.progress import PROGRESS_PREFIX

SCANS_STAGE = "masks of scans"
LABELMAP_SUFFIX = ".nrrd"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "masks",
        help="region masks (background, lung parenchyma, body) of single scans",
        description="Region masks of a single CT scan (file or DICOM folder, in HU), computed with the scan "
        f"on both sides of the pair: a labelmap with {LABEL_BODY} body, {LABEL_BACKGROUND} "
        f"background, {LABEL_LUNG} lung parenchyma on the scan's grid. A folder of scans gives one "
        "labelmap per scan, <name>.nrrd, in the --out folder; finished ones are skipped on a rerun.",
    )
    parser.add_argument(
        "--in", dest="input", required=True, help="a volume file, a DICOM series folder, or a folder of scans"
    )
    parser.add_argument(
        "--out", required=True, help="the labelmap file (.nrrd) of one scan; the results folder for a folder of scans"
    )
    add_overwrite_option(parser)
    add_progress_option(parser)
    parser.set_defaults(func=run)


def _labelmap_of(scan_path: Path, args: argparse.Namespace):
    """The scan's labels and the scan (for its grid)."""
    from ipv2.input_checks import require_ct
    from ipv2.io.volumes import read_volume
    from ipv2.masks import compute_region_masks

    volume = read_volume(scan_path)
    require_ct(volume, str(scan_path))
    with monitor_from_args(args) as monitor:
        masks = compute_region_masks(volume, volume, monitor=monitor)
    return masks.labelmap(), volume


def _run_one(args: argparse.Namespace) -> int:
    from ipv2.io.outputs import require_writable_output
    from ipv2.io.volumes import write_labelmap

    out = Path(args.out)
    require_writable_output(out)
    if not out.name.lower().endswith(LABELMAP_SUFFIX):
        raise InputError(f"--out {out}: the labelmap is written as {LABELMAP_SUFFIX}")
    with rank_zero_output_lock(out):
        require_new_outputs([out], [args.input], args.overwrite)
        labels, volume = _labelmap_of(Path(args.input), args)
        write_labelmap(labels, volume, out)
    if args.progress != "json":
        print(f"region masks written to {out}")
    return 0


def _is_finished(scan_path: Path, output: Path) -> bool:
    from ipv2.io.volumes import volume_shape

    try:
        return output.is_file() and volume_shape(output) == volume_shape(scan_path)
    except InputError:
        return False


def _run_folder(args: argparse.Namespace) -> int:
    from ipv2.io.outputs import require_writable_output
    from ipv2.io.scans import find_scans
    from ipv2.io.volumes import write_labelmap

    out_dir = Path(args.out)
    if out_dir.resolve() == Path(args.input).resolve():
        raise InputError(f"--out {out_dir} is the --in folder; choose another folder for the masks")
    require_writable_output(out_dir, folder=True)
    scans = find_scans(args.input)
    summary = {"done": [], "skipped": [], "failed": []}
    with rank_zero_output_lock(out_dir, folder=True):
        for scan in scans:
            output = out_dir / f"{scan.name}{LABELMAP_SUFFIX}"
            try:
                if not args.overwrite and output.exists():
                    if not _is_finished(scan.path, output):
                        raise InputError(
                            f"{output} exists but is not the masks of {scan.path.name}; delete it or give --overwrite"
                        )
                    summary["skipped"].append(scan.name)
                    continue
                labels, volume = _labelmap_of(scan.path, args)
                write_labelmap(labels, volume, output)
                summary["done"].append(scan.name)
                if args.progress != "json":
                    print(f"{scan.name}: masks written to {output}", flush=True)
            except InputError as error:
                summary["failed"].append({"scan": scan.name, "reason": str(error)})
    if args.progress == "json":
        count = len(scans)
        print(
            PROGRESS_PREFIX + json.dumps({"stage": SCANS_STAGE, "done": count, "total": count, "summary": summary}),
            flush=True,
        )
    else:
        print(
            f"{len(scans)} scans: {len(summary['done'])} with new masks, {len(summary['skipped'])} skipped "
            f"(already done), {len(summary['failed'])} failed"
        )
        for item in summary["failed"]:
            print(f"  failed  {item['scan']}: {item['reason']}")
    return 2 if summary["failed"] else 0


def run(args: argparse.Namespace) -> int:
    from ipv2.io.scans import is_scan_folder

    if not Path(args.input).exists():
        raise InputError(f"--in {args.input}: no such file or folder")
    if is_scan_folder(args.input):
        return _run_folder(args)
    return _run_one(args)
