"""`ipv2 denoise`: apply a trained model, or a classical method, to a whole CT volume."""

from __future__ import annotations

import argparse
import json

from ipv2.contract import CLASSICAL_DENOISERS, DEFAULT_MODEL, DEFAULT_STRENGTH, STRENGTH_RANGE, STRENGTHS
from ipv2.cli.common import (add_device_option, add_overwrite_option, add_progress_option, add_uncompressed_option,
                             holds_output_lock, monitor_from_args, require_uncompressible)
from ipv2.errors import InputError
from ipv2.io.atomic import require_new_outputs
from ipv2.progress import PROGRESS_PREFIX

NOISE_STAGE = "measure noise"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "denoise", help="denoise a CT volume with a trained model or a classical method",
        description="Denoise a CT volume (file or DICOM folder, in HU) slice by slice with a registered "
                    "model's bundled weights, a checkpoint written by `ipv2 train`, or a classical "
                    f"method ({', '.join(CLASSICAL_DENOISERS)}). The output keeps the input's grid and HU.")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"a registered model name (its bundled weights), a checkpoint file, or a classical "
                             f"method: {' or '.join(CLASSICAL_DENOISERS)} (default {DEFAULT_MODEL})")
    parser.add_argument("--in", dest="input", required=True, help="input volume file or DICOM folder")
    parser.add_argument("--out", required=True, help="output volume file (.nrrd, .nii.gz, .mha, ...)")
    parser.add_argument("--sigma", type=float, metavar="HU", default=None,
                        help="noise standard deviation in HU for a classical method (default: measured in the "
                             "volume's flat regions); networks measure the noise themselves")
    parser.add_argument("--strength", default=DEFAULT_STRENGTH, metavar="LEVEL",
                        help=f"how hard a noise-conditioned network denoises: {', '.join(STRENGTHS)} or a factor "
                             f"from {STRENGTH_RANGE[0]:g} to {STRENGTH_RANGE[1]:g} on the measured noise level "
                             f"(default {DEFAULT_STRENGTH})")
    parser.add_argument("--batch", type=int, default=None,
                        help="slices per forward pass of a network (default: sized to the device's memory)")
    add_device_option(parser)
    add_overwrite_option(parser)
    add_uncompressed_option(parser)
    add_progress_option(parser)
    parser.set_defaults(func=run)


def _is_classical(model: str) -> bool:
    return str(model).lower() in CLASSICAL_DENOISERS


def _require_options(args: argparse.Namespace) -> None:
    from ipv2.classical import require_sigma_hu
    from ipv2.models.conditioning import strength_factor

    if _is_classical(args.model):
        if args.sigma is not None:
            require_sigma_hu(args.sigma)
        if args.batch is not None:
            raise InputError(f"--batch sets a network's forward pass; {args.model} denoises one slice at a time")
        if strength_factor(args.strength) != strength_factor(DEFAULT_STRENGTH):
            raise InputError(f"--strength applies to noise-conditioned networks; {args.model} takes --sigma")
    else:
        strength_factor(args.strength)
        if args.batch is not None and args.batch < 1:
            raise InputError(f"--batch {args.batch} must be at least 1")
        if args.sigma is not None:
            raise InputError(f"--sigma applies to the classical methods ({', '.join(CLASSICAL_DENOISERS)}); "
                             f"model {args.model} is a network and takes the noise level from the image itself")


def _report_sigma(args: argparse.Namespace, sigma: float, source: str) -> None:
    """The noise level as a line of text, or with --progress json as a finished progress record."""
    if args.progress == "json":
        record = {"stage": NOISE_STAGE, "done": 1, "total": 1, "sigma_hu": round(sigma, 3), "sigma_source": source}
        print(PROGRESS_PREFIX + json.dumps(record), flush=True)
    else:
        how = "given" if source == "given" else "measured in flat regions"
        print(f"noise level {sigma:.1f} HU ({how})", flush=True)


@holds_output_lock()
def run(args: argparse.Namespace) -> int:
    from ipv2.classical import denoise_volume_classical, measure_sigma_hu
    from ipv2.inference import denoise_volume
    from ipv2.io.volumes import read_volume, require_volume_suffix, write_volume

    _require_options(args)
    require_volume_suffix(args.out)
    if args.uncompressed:
        require_uncompressible(args.out)
    require_new_outputs([args.out], [args.input], args.overwrite)
    volume = read_volume(args.input)
    if _is_classical(args.model):
        sigma = args.sigma if args.sigma is not None else measure_sigma_hu(volume)
        _report_sigma(args, sigma, "given" if args.sigma is not None else "measured")
    with monitor_from_args(args) as monitor:
        if _is_classical(args.model):
            denoised = denoise_volume_classical(volume, args.model, sigma_hu=sigma, monitor=monitor)
        else:
            denoised = denoise_volume(volume, model=args.model, device=args.device, monitor=monitor,
                                      batch_size=args.batch, strength=args.strength)
    if "measured_noise_hu" in denoised.metadata:
        _report_sigma(args, denoised.metadata["measured_noise_hu"], "measured")
    write_volume(denoised, args.out, compress=not args.uncompressed)
    if args.progress != "json":
        print(f"denoised volume written to {args.out}")
    return 0
