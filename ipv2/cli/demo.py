"""`ipv2 demo`: the whole method on a built-in phantom, no download, with a visual report."""

from __future__ import annotations

import argparse
import functools

from ipv2.cli import common
from ipv2.contract import DEMO_SIZE as DEFAULT_SIZE
from ipv2.contract import DEMO_SLICES as DEFAULT_SLICES

HELP = "run the whole method on a built-in phantom and write a visual report"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help=HELP,
        description=HELP + ": make a uLDCT/NDCT phantom pair, purify it, denoise the uLDCT "
        "with the default bundled model, and score it against the IPv2 label and the true clean image.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the volumes, report and figure")
    parser.add_argument(
        "--size",
        type=int,
        default=DEFAULT_SIZE,
        metavar="N",
        help=f"phantom slice size in pixels (default {DEFAULT_SIZE})",
    )
    parser.add_argument(
        "--slices",
        type=int,
        default=DEFAULT_SLICES,
        metavar="N",
        help=f"number of phantom slices (default {DEFAULT_SLICES})",
    )
    parser.add_argument(
        "--model",
        default=None,
        metavar="NAME|FILE",
        help="a registered model with bundled weights or a checkpoint (default: the default model)",
    )
    common.add_seed_option(parser)
    common.add_device_option(parser)
    common.add_overwrite_option(parser)
    common.add_progress_option(parser)
    parser.set_defaults(func=run)


def _summary(report: dict) -> str:
    lines = [f"{'RMSE (HU)':<24}{'background':>11}{'lung':>8}{'body':>8}"]
    names = {
        "input_vs_truth": "uLDCT vs truth",
        "prediction_vs_truth": "denoised vs truth",
        "input_vs_label": "uLDCT vs IPv2 label",
        "prediction_vs_label": "denoised vs IPv2 label",
    }
    for key, name in names.items():
        regions = report["fidelity"].get(key)
        if regions:
            lines.append(
                f"{name:<24}"
                + "".join(f"{regions[r]['rmse_hu']:>{w}.1f}" for r, w in (("background", 11), ("lung", 8), ("body", 8)))
            )
    return "\n".join(lines)


@common.holds_output_lock(folder=True)
def run(args: argparse.Namespace) -> int:
    # imported here: the parser, `ipv2 --help` and argument errors load no backend
    from ipv2.services.demo import make_demo

    result = make_demo(
        args.out,
        functools.partial(common.monitor_from_args, args),
        size=args.size,
        slices=args.slices,
        seed=args.seed,
        model=args.model,
        device=args.device,
        overwrite=args.overwrite,
    )
    print(_summary(result.report))
    print(f"report: {result.report_path}")
    print(f"figure: {result.figure}")
    return 0
