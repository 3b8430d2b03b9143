"""`ipv2 masks`: the region masks of single scans, each taken as both scans of a pair
(the work is `ipv2.services.masks`')."""

from __future__ import annotations

import argparse
import functools

from ipv2.cli.common import add_overwrite_option, add_progress_option, monitor_from_args
from ipv2.contract import LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG


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


def run(args: argparse.Namespace) -> int:
    # imported here: the parser, `ipv2 --help` and argument errors load no backend
    from ipv2.services.masks import run_masks

    return run_masks(
        args.input, args.out, args.overwrite, args.progress == "json", functools.partial(monitor_from_args, args)
    )
