"""`ipv2 phantom`: a paired NDCT/uLDCT chest phantom with its ground truth."""

from __future__ import annotations

import argparse

from pathlib import Path

from ipv2.cli.common import (add_device_option, add_overwrite_option, add_progress_option, add_seed_option,
                             holds_output_lock, monitor_from_args)
from ipv2.io import require_new_outputs


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "phantom", help="generate a misaligned NDCT/uLDCT chest CT pair with known truth",
        description="Renders an anthropomorphic chest in two breathing states, adds normal-dose noise to one "
                    "and ultra-low-dose noise to the other, and writes ndct.nrrd, uldct.nrrd, truth.nrrd (the "
                    "noise-free scan of the uLDCT state), labels.nrrd (0 body, 1 background, 2 lung, 3 vessels, 4 nodules, "
                    "5 airways, 6 other gas, 7 tumour), deformation.nrrd, phantom.json and preview.png.")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--size", type=int, default=512, help="pixels per side of each slice (default 512, at least 64)")
    parser.add_argument("--slices", type=int, default=48, help="number of slices (default 48, at least 4)")
    add_seed_option(parser)
    parser.add_argument("--dose", type=float, default=0.02,
                        help="dose of the uLDCT as a fraction of the NDCT's (default 0.02)")
    parser.add_argument("--motion-mm", type=float, default=8.0,
                        help="breathing motion of the lung bases between the two scans, mm (default 8)")
    parser.add_argument("--fov-padding", action="store_true",
                        help="pad outside the circular reconstruction field of view with -2048 HU")
    parser.add_argument("--png", action="store_true",
                        help="also write the authors' layout png/lq/ and png/gt/ (8-bit, lung window)")
    parser.add_argument("--no-electronic-noise", dest="electronic_noise", action="store_false",
                        help="simulate photon noise only")
    add_device_option(parser)
    add_overwrite_option(parser)
    add_progress_option(parser)
    parser.set_defaults(func=run)


@holds_output_lock(folder=True)
def run(args: argparse.Namespace) -> int:
    from ipv2.phantom import generate_phantom_pair, write_phantom
    from ipv2.phantom.writer import OUTPUT_FILES

    out = Path(args.out)
    require_new_outputs([out / name for name in OUTPUT_FILES] + ([out / "png"] if args.png else []),
                        overwrite=args.overwrite)

    with monitor_from_args(args) as monitor:
        pair = generate_phantom_pair(size=args.size, slices=args.slices, seed=args.seed, dose=args.dose,
                                     motion_mm=args.motion_mm, fov_padding=args.fov_padding, monitor=monitor,
                                     electronic_noise=args.electronic_noise, device=args.device)
        written = write_phantom(pair, args.out, png=args.png, monitor=monitor)
    print(f"phantom written to {args.out}: " + ", ".join(path.name for path in written.values()))
    return 0
