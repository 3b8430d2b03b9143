"""`ipv2 phantom`: a paired NDCT/uLDCT chest phantom with its ground truth."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ipv2.cli.common import (
    add_device_option,
    add_overwrite_option,
    add_progress_option,
    add_seed_option,
    holds_output_lock,
    monitor_from_args,
)
from ipv2.contract import DEFAULT_DOSE, DEFAULT_KERNEL, KERNELS, PHANTOM_VARIANTS
from ipv2.errors import InputError
from ipv2.io import require_new_outputs

# The phantom's settings (`ipv2.phantom.variants.split_settings`) as the command line spells them, for its messages.
FLAGS = {
    "size": "--size",
    "slices": "--slices",
    "motion_mm": "--motion-mm",
    "pixel_mm": "--pixel-mm",
    "fov_mm": "--fov-mm",
    "slice_mm": "--slice-mm",
    "thickness_mm": "--thickness-mm",
    "crop_fov_mm": "--crop-fov-mm",
    "kernel": "--kernel",
    "dose": "--dose",
    "fov_padding": "--fov-padding",
}
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
    add_seed_option(parser)
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
    add_device_option(parser)
    add_overwrite_option(parser)
    add_progress_option(parser)
    parser.set_defaults(func=run)


def flag_message(message: str) -> str:
    """A message that starts with a parameter's name ("crop_fov_mm: ...") starts with its
    option instead ("--crop-fov-mm: ...")."""
    return re.sub(r"^([a-z_]+):", lambda m: f"{FLAGS.get(m.group(1), m.group(1))}:", message)


def acquisition_settings(args: argparse.Namespace) -> dict:
    """The acquisition's settings (`ipv2.phantom.variants.split_settings`): those of `--variant`,
    each replaced by its option where that was given, and the options given without a variant."""
    from ipv2.phantom.variants import acquisition_variant

    settings = acquisition_variant(args.variant) if args.variant is not None else {}
    settings.update({key: getattr(args, key) for key in ACQUISITION_OPTIONS if getattr(args, key) is not None})
    return settings


def variant_note(variant: str) -> str:
    """What a variant sets, as options, for a message about a setting it may have taken part in."""
    from ipv2.phantom.variants import acquisition_variant

    options = " ".join(
        FLAGS[key]
        if value is True
        else f"{FLAGS[key]} {value:g}"
        if isinstance(value, float)
        else f"{FLAGS[key]} {value}"
        for key, value in acquisition_variant(variant).items()
    )
    return f" (--variant {variant} sets {options})" if options else ""


@holds_output_lock(folder=True)
def run(args: argparse.Namespace) -> int:
    from ipv2.phantom import generate_phantom_pair, write_phantom
    from ipv2.phantom.variants import split_settings
    from ipv2.phantom.writer import OUTPUT_FILES

    if args.low_contrast:
        from ipv2.cli import phantom_low_contrast

        phantom_low_contrast.require_options(args)
        with monitor_from_args(args) as monitor:
            return phantom_low_contrast.run(args, monitor)
    if args.realisations is not None:
        raise InputError("--realisations applies to --low-contrast")
    out = Path(args.out)
    require_new_outputs(
        [out / name for name in OUTPUT_FILES] + ([out / "png"] if args.png else []), overwrite=args.overwrite
    )

    settings = acquisition_settings(args)
    with monitor_from_args(args) as monitor:
        try:
            motion = {} if args.motion_mm is None else {"motion_mm": args.motion_mm}
            acquisition, options = split_settings(
                {
                    "seed": args.seed,
                    **motion,
                    "electronic_noise": args.electronic_noise,
                    "tumour": args.tumour,
                    **settings,
                }
            )
            pair = generate_phantom_pair(acquisition, options, device=args.device, monitor=monitor)
        except InputError as error:
            note = variant_note(args.variant) if args.variant is not None else ""
            raise InputError(flag_message(str(error)) + note) from None
        if args.variant is not None:
            pair.parameters = {"variant": args.variant, **(pair.parameters or {})}
        written = write_phantom(pair, args.out, png=args.png, monitor=monitor)
    print(f"phantom written to {args.out}: " + ", ".join(path.name for path in written.values()))
    return 0
