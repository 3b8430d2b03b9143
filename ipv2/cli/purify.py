"""`ipv2 purify`: purified training pairs and evaluation labels from uLDCT/NDCT pairs."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from ipv2.cli.common import (
    add_device_option,
    add_overwrite_option,
    add_progress_option,
    add_seed_option,
    add_uncompressed_option,
    holds_output_lock,
    monitor_from_args,
)
from ipv2.contract import (
    DEFAULT_DOSE,
    DEFAULT_MODE,
    DEFAULT_SIMULATE_MODE,
    DEFAULT_STITCH_BLEND_PX,
    DEFAULT_WEAK_DENOISER,
    MAX_STITCH_BLEND_PX,
    MODES,
    SIMULATE_MODES,
    WEAK_DENOISERS,
)
from ipv2.errors import InputError
from ipv2.io.atomic import is_same_file

if TYPE_CHECKING:  # the parser is built without the backend (ipv2.contract)
    from ipv2.purify.options import PurifyOptions

DESCRIPTION = """Purifies a misaligned uLDCT/NDCT pair (IPv2). With --lq and --gt, writes to --out:
masks.nrrd (labelmap: 0 body, 1 background, 2 lung), train_input.nrrd, train_target.nrrd,
eval_label.nrrd and report.json. With --dataset (a folder with lq/ and gt/ PNG slices),
writes the folders lq_bar/ (training input), gt_bar/ (training target), eval_label/ and
report.json."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "purify", help="purified training pairs and evaluation labels", description=DESCRIPTION
    )
    source = parser.add_argument_group("inputs (either --lq and --gt, or --dataset)")
    source.add_argument("--lq", type=Path, metavar="ULDCT", help="ultra-low-dose CT: volume file or DICOM folder")
    source.add_argument("--gt", type=Path, metavar="NDCT", help="normal-dose CT of the same patient, same grid")
    source.add_argument("--dataset", type=Path, metavar="DIR", help="PNG dataset folder with lq/ and gt/")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=DEFAULT_MODE,
        help=f"purification strategy: ipv1, the paper's ipv2, or ipv2m, IPv2 with the motion rules "
        f"below (default {DEFAULT_MODE})",
    )
    parser.add_argument(
        "--remove-background",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="IPv2 Remove Background: take the background from the NDCT (default on)",
    )
    parser.add_argument(
        "--add-noise",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="IPv2 Add noise: lung of the input simulated from the NDCT (default on)",
    )
    motion = parser.add_argument_group("motion rules (--mode ipv2m only)")
    motion.add_argument(
        "--agreed-background",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="take the NDCT's background only where both scans show background; where they "
        "disagree the target follows the uLDCT (default on)",
    )
    motion.add_argument(
        "--lung-field",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Add noise and Remove noise over the lung field, vessels and nodules inside (default on)",
    )
    motion.add_argument(
        "--stitch-blend",
        type=int,
        metavar="PX",
        default=None,
        help=f"blend the input from sim(gt) to the uLDCT over PX pixels of body, 0.."
        f"{MAX_STITCH_BLEND_PX} (default {DEFAULT_STITCH_BLEND_PX}; 0 stitches at once)",
    )
    parser.add_argument(
        "--weak",
        choices=WEAK_DENOISERS,
        default=DEFAULT_WEAK_DENOISER,
        help=f"conventional denoiser for the label's lung (default {DEFAULT_WEAK_DENOISER})",
    )
    parser.add_argument(
        "--sigma",
        type=float,
        metavar="HU",
        default=None,
        help="uLDCT noise level for the denoiser (gray levels for --dataset); measured if omitted",
    )
    parser.add_argument(
        "--dose",
        type=float,
        default=DEFAULT_DOSE,
        help=f"simulated dose fraction for Add noise (default {DEFAULT_DOSE})",
    )
    parser.add_argument(
        "--simulate-mode",
        choices=SIMULATE_MODES,
        default=DEFAULT_SIMULATE_MODE,
        help=f"Add noise simulator for volumes (default {DEFAULT_SIMULATE_MODE}); --dataset always uses seed",
    )
    add_seed_option(parser)
    add_device_option(parser)
    add_overwrite_option(parser)
    add_uncompressed_option(parser)
    parser.add_argument(
        "--resume", action="store_true", help="reuse the stages an interrupted run on the same inputs kept in --out"
    )
    add_progress_option(parser)
    parser.set_defaults(func=run)


def _options(args: argparse.Namespace) -> PurifyOptions:
    """The run's options from the flags; the motion rules' flags are refused outside --mode ipv2m."""
    # imported here: the parser, `ipv2 --help` and argument errors load no backend
    from ipv2.services.purify import PurifyOptions, require_motion_rules_apply

    given = [
        f"--{'' if value else 'no-'}{flag}"
        for flag, value in (("agreed-background", args.agreed_background), ("lung-field", args.lung_field))
        if value is not None
    ]
    if args.stitch_blend is not None:
        given.append(f"--stitch-blend {args.stitch_blend}")
    require_motion_rules_apply(args.mode, given)
    motion = dict(
        agreed_background=args.agreed_background, lung_field=args.lung_field, stitch_blend_px=args.stitch_blend
    )
    motion = {key: value for key, value in motion.items() if value is not None}  # else the options' defaults
    return PurifyOptions(
        mode=args.mode,
        remove_background=args.remove_background,
        add_noise=args.add_noise,
        weak=args.weak,
        dose=args.dose,
        seed=args.seed,
        simulate_mode=args.simulate_mode,
        device=args.device,
        sigma_hu=args.sigma,
        **motion,
    ).checked()


def _require_inputs(args: argparse.Namespace) -> None:
    """Either a pair of volumes or a PNG dataset, and the options that apply to it."""
    volumes = args.lq is not None or args.gt is not None
    if volumes and args.dataset is not None:
        raise InputError("give either --lq and --gt (volumes) or --dataset (PNG folder), not both")
    if args.dataset is None and (args.lq is None or args.gt is None):
        raise InputError("give both --lq ULDCT and --gt NDCT, or --dataset DIR")
    if volumes and is_same_file(args.lq, args.gt):
        raise InputError(
            f"--lq and --gt name the same scan ({args.lq}); give the ultra-low-dose and the "
            "normal-dose scan of the patient"
        )


def _require_dataset_options(args: argparse.Namespace) -> None:
    if args.uncompressed:
        raise InputError("--uncompressed applies to volume pairs (--lq/--gt); a --dataset run writes PNG slices")
    if args.resume:
        raise InputError(
            "--resume applies to volume pairs (--lq/--gt); a --dataset run writes slice by slice "
            "and is simply run again"
        )


@holds_output_lock(folder=True)
def run(args: argparse.Namespace) -> int:
    from ipv2.services.purify import purify_dataset, purify_pair

    _require_inputs(args)
    options = _options(args)
    open_monitor = functools.partial(monitor_from_args, args)
    if args.dataset is not None:
        _require_dataset_options(args)
        return purify_dataset(args.dataset, args.out, options, open_monitor, overwrite=args.overwrite)
    return purify_pair(
        args.lq,
        args.gt,
        args.out,
        options,
        open_monitor,
        overwrite=args.overwrite,
        resume=args.resume,
        compress=not args.uncompressed,
    )
