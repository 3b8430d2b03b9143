"""`ipv2 denoise`: apply a trained model, or a classical method, to a whole CT volume."""

from __future__ import annotations

import argparse
import functools

from ipv2.cli.common import (
    add_device_option,
    add_overwrite_option,
    add_progress_option,
    add_uncompressed_option,
    monitor_from_args,
)
from ipv2.contract import CLASSICAL_DENOISERS, DEFAULT_MODEL, DEFAULT_STRENGTH, STRENGTH_RANGE, STRENGTHS

FORMATS = ("dicom", "nrrd", "nii.gz", "mha")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "denoise",
        help="denoise a CT volume with a trained model or a classical method",
        description="Denoise a CT volume (file or DICOM folder, in HU) slice by slice with a registered "
        "model's bundled weights, a checkpoint written by `ipv2 train`, or a classical "
        f"method ({', '.join(CLASSICAL_DENOISERS)}). The output keeps the input's grid and HU. "
        "A DICOM input can be written as a derived DICOM series of the same study. A folder of "
        "scans (DICOM series subfolders or volume files) is denoised scan by scan into the --out "
        "folder; finished scans are skipped on a rerun, and under torchrun the ranks share them.",
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"a registered model name (its bundled weights), a checkpoint file, or a classical "
        f"method: {' or '.join(CLASSICAL_DENOISERS)} (default {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--in",
        dest="input",
        required=True,
        help="input volume file, DICOM series folder, or a folder of scans (series subfolders or volume files)",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output volume file (.nrrd, .nii.gz, .mha, ...); a folder for a derived DICOM series "
        "of a DICOM input; the results folder for a folder of scans",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="what to write: dicom, a derived series of the input's study (needs DICOM input), "
        "or a volume file format; default: from --out's suffix, a DICOM series where --out "
        "has none, and for a folder of scans DICOM for series and nrrd for files",
    )
    parser.add_argument(
        "--sigma",
        type=float,
        metavar="HU",
        default=None,
        help="noise standard deviation in HU for a classical method (default: measured in the "
        "volume's flat regions); networks measure the noise themselves",
    )
    parser.add_argument(
        "--strength",
        default=DEFAULT_STRENGTH,
        metavar="LEVEL",
        help=f"the dose a network's result should look like, as a multiple of the input's: "
        f"{', '.join(STRENGTHS)} (2x, 8x and 32x the dose) or a number from "
        f"{STRENGTH_RANGE[0]:g} (unchanged) to {STRENGTH_RANGE[1]:g} (default {DEFAULT_STRENGTH})",
    )
    parser.add_argument(
        "--strength-lung",
        default=None,
        metavar="LEVEL",
        help="the strength in the lung field (found with the region masks), blended into the "
        "body's across its border (default: --strength)",
    )
    parser.add_argument(
        "--strength-body",
        default=None,
        metavar="LEVEL",
        help="the strength outside the lung field (default: --strength)",
    )
    parser.add_argument(
        "--removed",
        default=None,
        metavar="PATH",
        help="also write the removed image (input minus output, on the input's grid) to this "
        "volume file; one scan only",
    )
    parser.add_argument(
        "--regions",
        default=None,
        metavar="PATH",
        help="also write the region masks of the scan (0 body, 1 background, 2 lung; the masks "
        "region-aware strengths use, computed once) to this volume file; one scan only",
    )
    parser.add_argument(
        "--no-account",
        dest="account",
        action="store_false",
        help="do not write the account of what was removed (<name>.denoise.json beside the "
        "result; for a folder of scans also denoise_accounts.csv)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="slices per forward pass of a network (default: sized to the device's memory)",
    )
    add_device_option(parser)
    add_overwrite_option(parser)
    add_uncompressed_option(parser)
    add_progress_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # imported here: the parser, `ipv2 --help` and argument errors load no backend
    from ipv2.services.denoise import DenoiseRequest, DenoiseSettings, run_denoise

    settings = DenoiseSettings(
        strength=args.strength,
        lung_strength=args.strength_lung,
        body_strength=args.strength_body,
        sigma_hu=args.sigma,
        batch_size=args.batch,
    )
    request = DenoiseRequest(
        input=args.input,
        out=args.out,
        model=args.model,
        settings=settings,
        format=args.format,
        removed=args.removed,
        regions=args.regions,
        account=args.account,
        device=args.device,
        overwrite=args.overwrite,
        uncompressed=args.uncompressed,
        progress=args.progress,
    )
    return run_denoise(request, functools.partial(monitor_from_args, args))
