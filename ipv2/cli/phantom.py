"""`ipv2 phantom`: a paired NDCT/uLDCT chest phantom with its ground truth, or the low-contrast
phantom (the work is `ipv2.services.phantom`')."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from ipv2.cli import common, phantom_low_contrast
from ipv2.contract import DEFAULT_DOSE, DEFAULT_KERNEL, KERNELS, PHANTOM_VARIANTS
from ipv2.errors import InputError

# The acquisition's options, which a variant may set: absent (None) unless given, so that a
# variant's value stands where its option was not given and the phantom's default where
# neither sets it.
ACQUISITION_OPTIONS = (
    "size",
    "slices",
    "pixel_mm",
    "fov_mm",
    "slice_mm",
    "thickness_mm",
    "kernel",
    "crop_fov_mm",
    "dose",
    "fov_padding",
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "phantom",
        help="generate a misaligned NDCT/uLDCT chest CT pair with known truth",
        description="Renders an anthropomorphic chest in two breathing states, adds normal-dose noise to one "
        "and ultra-low-dose noise to the other, and writes ndct.nrrd, uldct.nrrd, truth.nrrd (the "
        "noise-free scan of the uLDCT state), labels.nrrd (0 body, 1 background, 2 lung, 3 vessels, 4 nodules, "
        "5 airways, 6 other gas, 7 tumour), deformation.nrrd, phantom.json and preview.png. The options below "
        "choose the acquisition (kernel, pixel and field of view, slices and their thickness, dose, padding, "
        "a cropped display field of view), or --variant names one; phantom.json records it.",
    )
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument(
        "--variant",
        choices=PHANTOM_VARIANTS,
        default=None,
        help="a named acquisition (ipv2.phantom.ACQUISITION_VARIANTS); the acquisition options "
        "given beside it replace the variant's values for those options",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=None,
        help="pixels per side of each simulated slice (default 512, or the field of view over the "
        "pixel size; at least 64)",
    )
    parser.add_argument(
        "--pixel-mm",
        type=float,
        default=None,
        help="pixel size, mm (default: the field of view over the matrix, 0.7 mm at 512)",
    )
    parser.add_argument(
        "--fov-mm",
        type=float,
        default=None,
        help="reconstruction field of view, mm (default 358.4; give at most two of --size, --pixel-mm and --fov-mm)",
    )
    parser.add_argument("--slices", type=int, default=None, help="number of slices (default 48, at least 4)")
    parser.add_argument(
        "--slice-mm",
        type=float,
        default=None,
        help="distance between slices, mm (default 120 mm over --slices: 2.5 mm at 48)",
    )
    parser.add_argument(
        "--thickness-mm",
        type=float,
        default=None,
        help="slice thickness, mm: each slice is the mean of the anatomy over it (default: "
        "each slice samples its centre plane); may exceed --slice-mm (overlapping slices)",
    )
    parser.add_argument(
        "--kernel",
        choices=KERNELS,
        default=None,
        help=f"reconstruction kernel, smooth to sharp (default {DEFAULT_KERNEL})",
    )
    common.add_seed_option(parser)
    parser.add_argument(
        "--dose",
        type=float,
        default=None,
        help=f"dose of the uLDCT as a fraction of the NDCT's (default {DEFAULT_DOSE:g})",
    )
    parser.add_argument(
        "--motion-mm",
        type=float,
        default=None,
        help="breathing motion of the lung bases between the two scans, mm (default 8)",
    )
    parser.add_argument(
        "--fov-padding",
        action="store_true",
        default=None,
        help="pad outside the circular reconstruction field of view with -2048 HU",
    )
    parser.add_argument(
        "--crop-fov-mm",
        type=float,
        default=None,
        help="keep only the central display field of view of this size, mm, of the full "
        "reconstruction (noise of the whole object; e.g. 220 for lungs touching the border)",
    )
    parser.add_argument(
        "--no-tumour",
        dest="tumour",
        action="store_false",
        help="leave out the lung tumour (labels then have no 7); the rest of the phantom stays the same",
    )
    parser.add_argument(
        "--low-contrast",
        action="store_true",
        help="write the low-contrast detectability phantom instead (CCT189 layout: a 200 mm water "
        "cylinder with 3/5/7/10 mm discs at +14/+7/+5/+3 HU): --realisations noisy slices at "
        "--dose (default 0.1 of a routine dose), the noise-free reference, the truth and the "
        "sites; --size, --pixel-mm, --kernel and --seed apply",
    )
    parser.add_argument(
        "--realisations",
        type=int,
        default=None,
        help="with --low-contrast: independent noise realisations to write (default 16)",
    )
    parser.add_argument(
        "--png", action="store_true", help="also write the authors' layout png/lq/ and png/gt/ (8-bit, lung window)"
    )
    parser.add_argument(
        "--no-electronic-noise", dest="electronic_noise", action="store_false", help="simulate photon noise only"
    )
    common.add_device_option(parser)
    common.add_overwrite_option(parser)
    common.add_progress_option(parser)
    parser.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> dict:
    """The phantom's settings the flags gave (`ipv2.phantom.variants.split_settings`' names); an
    acquisition option left out keeps the variant's value, or the phantom's default."""
    settings = {key: getattr(args, key) for key in ACQUISITION_OPTIONS if getattr(args, key) is not None}
    if args.motion_mm is not None:
        settings["motion_mm"] = args.motion_mm
    return {**settings, "seed": args.seed, "electronic_noise": args.electronic_noise, "tumour": args.tumour}


@common.holds_output_lock(folder=True)
def run(args: argparse.Namespace) -> int:
    # imported here: the parser, `ipv2 --help` and argument errors load no backend
    from ipv2.services.phantom import make_chest_phantom, make_low_contrast_phantom

    open_monitor = functools.partial(common.monitor_from_args, args)
    if args.low_contrast:
        phantom_low_contrast.require_options(args)
        written = make_low_contrast_phantom(
            Path(args.out),
            open_monitor,
            dose=phantom_low_contrast.DEFAULT_DOSE if args.dose is None else args.dose,
            realisations=phantom_low_contrast.DEFAULT_REALISATIONS if args.realisations is None else args.realisations,
            size=args.size,
            pixel_mm=args.pixel_mm,
            kernel=args.kernel,
            seed=args.seed,
            device=args.device,
            overwrite=args.overwrite,
        )
        print(f"low-contrast phantom written to {args.out}: " + ", ".join(written))
        return 0
    if args.realisations is not None:
        raise InputError("--realisations applies to --low-contrast")
    files = make_chest_phantom(
        Path(args.out),
        _settings(args),
        open_monitor,
        variant=args.variant,
        png=args.png,
        device=args.device,
        overwrite=args.overwrite,
    )
    print(f"phantom written to {args.out}: " + ", ".join(path.name for path in files.values()))
    return 0
