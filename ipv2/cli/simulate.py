"""`ipv2 simulate`: a simulated low-dose scan of a CT volume (the work is `ipv2.services.simulate`')."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from ipv2.cli import common
from ipv2.contract import (
    DEFAULT_DOSE,
    DEFAULT_KERNEL,
    DEFAULT_SIMULATE_MODE,
    KERNELS,
    SIMULATE_MODES,
)
from ipv2.errors import InputError
from ipv2.input_checks import require_dose
from ipv2.io import require_new_outputs
from ipv2.io.suffixes import VOLUME_SUFFIXES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="simulate a low-dose scan of a CT volume (Add noise)",
        description="Simulate a low-dose scan of a CT volume: project, add photon noise, reconstruct.",
    )
    parser.add_argument(
        "--in",
        dest="input",
        required=True,
        metavar="NDCT",
        help="the CT volume in HU: a volume file (NRRD, NIfTI, MHA) or a DICOM folder",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="where to write the simulated volume (" + ", ".join(VOLUME_SUFFIXES) + ")",
    )
    parser.add_argument(
        "--dose",
        type=float,
        default=DEFAULT_DOSE,
        help=f"dose as a fraction of the input's, in (0, 1] (default {DEFAULT_DOSE:g})",
    )
    parser.add_argument(
        "--mode",
        choices=SIMULATE_MODES,
        default=DEFAULT_SIMULATE_MODE,
        help=f"physical: photon statistics in HU; seed: the authors' normalised formula "
        f"(default {DEFAULT_SIMULATE_MODE})",
    )
    parser.add_argument(
        "--input-dose",
        type=float,
        default=None,
        metavar="D",
        help="physical mode: the input's own dose (1 for a normal-dose scan) so that only the "
        "missing noise is added; by default the input is taken as noise-free",
    )
    parser.add_argument(
        "--kernel",
        choices=KERNELS,
        default=DEFAULT_KERNEL,
        help="reconstruction kernel of the simulated scan, smooth to sharp "
        f"(default {DEFAULT_KERNEL}, the authors' Hann filter)",
    )
    parser.add_argument(
        "--no-electronic-noise", action="store_true", help="leave out the Gaussian (electronic) noise term"
    )
    common.add_seed_option(parser)
    common.add_device_option(parser)
    common.add_overwrite_option(parser)
    common.add_progress_option(parser)
    parser.set_defaults(func=run)


@common.holds_output_lock()
def run(args: argparse.Namespace) -> int:
    # imported here: the parser, `ipv2 --help` and argument errors load no backend
    from ipv2.services.simulate import simulate_scan

    out = Path(args.out)
    if not out.name.lower().endswith(VOLUME_SUFFIXES):
        raise InputError(f"--out {out}: unknown volume format; use one of {', '.join(VOLUME_SUFFIXES)}")
    require_new_outputs([out], [args.input], args.overwrite)
    require_dose(args.dose, "--dose: dose fraction")
    if args.input_dose is not None:
        if args.mode != "physical":
            raise InputError(f"--input-dose applies to --mode physical; --mode {args.mode} takes the input as it is")
        if not 0.0 < args.input_dose <= 1.0:  # also NaN
            raise InputError(
                f"--input-dose {args.input_dose:g}: the input's own dose, as a fraction of the normal "
                "dose, must be in (0, 1] (1 for a normal-dose scan); leave it out to take the input "
                "as noise-free"
            )
    summary = simulate_scan(
        args.input,
        out,
        functools.partial(common.monitor_from_args, args),
        dose=args.dose,
        mode=args.mode,
        input_dose=args.input_dose,
        kernel=args.kernel,
        electronic_noise=not args.no_electronic_noise,
        seed=args.seed,
        device=args.device,
    )
    print(json.dumps(summary), file=sys.stderr if args.progress == "json" else sys.stdout)
    return 0
