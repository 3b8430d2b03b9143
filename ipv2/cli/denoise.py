"""`ipv2 denoise`: apply a trained model to a whole CT volume."""

from __future__ import annotations

import argparse

from ipv2.cli.common import add_device_option, add_overwrite_option, add_progress_option, monitor_from_args
from ipv2.inference import denoise_volume
from ipv2.io import read_volume, require_new_outputs, write_volume
from ipv2.io.volumes import require_volume_suffix
from ipv2.models.registry import DEFAULT_MODEL


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "denoise", help="denoise a CT volume with a trained model",
        description="Denoise a CT volume (file or DICOM folder, in HU) slice by slice with a registered "
                    "model's bundled weights or a checkpoint written by `ipv2 train`. The output keeps "
                    "the input's grid and HU.")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"a registered model name (its bundled weights) or a checkpoint file "
                             f"(default {DEFAULT_MODEL})")
    parser.add_argument("--in", dest="input", required=True, help="input volume file or DICOM folder")
    parser.add_argument("--out", required=True, help="output volume file (.nrrd, .nii.gz, .mha, ...)")
    parser.add_argument("--batch", type=int, default=None,
                        help="slices per forward pass (default: sized to the device's memory)")
    add_device_option(parser)
    add_overwrite_option(parser)
    add_progress_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_volume_suffix(args.out)
    require_new_outputs([args.out], [args.input], args.overwrite)
    volume = read_volume(args.input)
    with monitor_from_args(args) as monitor:
        denoised = denoise_volume(volume, model=args.model, device=args.device, monitor=monitor,
                                  batch_size=args.batch)
    write_volume(denoised, args.out)
    if args.progress != "json":
        print(f"denoised volume written to {args.out}")
    return 0
