"""`ipv2 evaluate`: fidelity per region, what a reader sees, and noise of a denoised volume,
as JSON and a figure (the work is `ipv2.services.evaluate`')."""

from __future__ import annotations

import argparse
import functools

from ipv2.cli.common import (
    add_device_option,
    add_overwrite_option,
    add_progress_option,
    add_seed_option,
    monitor_from_args,
)
from ipv2.errors import InputError

HELP = "score a denoised volume against the IPv2 label (and a true clean volume) per region"


def data_range_argument(text: str):
    if text in ("fixed", "label"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not 'fixed', 'label' or a number of HU") from None


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help=HELP,
        description=HELP + ". Regions come from the masks labelmap written by "
        "`ipv2 purify` (0 body, 1 background, 2 lung); region figures use only their region's voxels. "
        "Besides RMSE, PSNR, SSIM and noise it reports the share of small-structure contrast kept (lung "
        "vessels, soft tissue), SSIM in the lung and soft-tissue windows, and the noise power spectrum of "
        "flat regions.",
    )
    parser.add_argument("--pred", required=True, metavar="FILE", help="the denoised volume (HU)")
    parser.add_argument(
        "--label", required=True, metavar="FILE", help="the evaluation label, e.g. eval_label.nrrd from `ipv2 purify`"
    )
    parser.add_argument("--masks", required=True, metavar="FILE", help="the region labelmap, e.g. masks.nrrd")
    parser.add_argument("--truth", metavar="FILE", help="a true clean volume, where one exists (phantoms)")
    parser.add_argument("--input", metavar="FILE", help="the noisy input, for baseline figures and the figure")
    parser.add_argument("--out", metavar="FILE", help="write the report as JSON here (default: print it)")
    parser.add_argument("--figure", metavar="FILE", help="write the visual report here (.png, .pdf or .svg)")
    parser.add_argument(
        "--slices", metavar="K,...", help="slice numbers for the figure (default: the slice with the most lung)"
    )
    parser.add_argument(
        "--data-range",
        type=data_range_argument,
        default="fixed",
        metavar="RANGE",
        help="PSNR/SSIM data range: 'fixed' (2000 HU, the default), 'label' (the label's max - min) or a number of HU",
    )
    parser.add_argument(
        "--fid", action="store_true", help="add FID and KID of the slices (needs the optional extra 'fid')"
    )
    add_device_option(parser)
    add_seed_option(parser)
    add_overwrite_option(parser)
    add_progress_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # imported here: the parser, `ipv2 --help` and argument errors load no backend
    from ipv2.services.evaluate import EvaluateRequest, run_evaluate

    if args.slices is not None and not args.figure:
        raise InputError("--slices chooses the slices of the figure; give --figure FILE too")
    request = EvaluateRequest(
        pred=args.pred,
        label=args.label,
        masks=args.masks,
        truth=args.truth,
        input=args.input,
        out=args.out,
        figure=args.figure,
        slices=args.slices,
        data_range=args.data_range,
        fid=args.fid,
        device=args.device,
        seed=args.seed,
        overwrite=args.overwrite,
    )
    return run_evaluate(request, functools.partial(monitor_from_args, args))
