"""`ipv2 train`: train a denoiser on purified pairs (the work is `ipv2.services.train`')."""

from __future__ import annotations

import argparse
import functools
import json
from typing import TYPE_CHECKING

from ipv2.cli import common
from ipv2.contract import DEFAULT_LOSS, DEFAULT_MODEL, DEFAULT_TRAIN_STEPS, LOSSES
from ipv2.contract import NETWORKS as MODEL_NAMES
from ipv2.errors import InputError

if TYPE_CHECKING:  # the parser is built without the backend (ipv2.contract)
    from ipv2.training import TrainConfig


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a denoising model on purified pairs",
        description="Train a denoiser on pairs written by `ipv2 purify` (folders holding train_input and "
        "train_target volumes, or INPUT,TARGET file pairs) or on the authors' PNG layout "
        "(lq/ and gt/). Launch with torchrun for several GPUs.",
    )
    parser.add_argument("--data", nargs="+", required=True, metavar="PATH", help="training pairs")
    parser.add_argument("--val", nargs="+", default=[], metavar="PATH", help="held-out pairs for validation")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, choices=list(MODEL_NAMES), help=f"architecture (default {DEFAULT_MODEL})"
    )
    parser.add_argument(
        "--model-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override an architecture argument, VALUE in JSON (e.g. widths=[8,16,32])",
    )
    parser.add_argument("--out", required=True, help="model checkpoint to write (.safetensors or .pt)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help=f"optimiser steps (default {DEFAULT_TRAIN_STEPS})")
    length.add_argument("--epochs", type=float, help="passes over the data, in patches")
    parser.add_argument("--patch", type=int, default=96, help="patch side in pixels (default 96)")
    parser.add_argument("--batch", type=int, default=16, help="patches per step and process (default 16)")
    parser.add_argument("--lr", type=float, default=2e-4, help="peak learning rate of AdamW (default 2e-4)")
    parser.add_argument(
        "--loss",
        choices=LOSSES,
        default=DEFAULT_LOSS,
        help=f"loss: l1, mse, or l1_grad (L1 plus L1 of the image gradients, keeps edges; default {DEFAULT_LOSS})",
    )
    parser.add_argument(
        "--noise-conditioning",
        action="store_true",
        help="give the network each slice's measured noise level (one model for every dose, "
        "with a strength control at denoising)",
    )
    parser.add_argument(
        "--context-slices",
        type=int,
        default=0,
        help="neighbouring slices on each side given as extra channels (2.5D; default 0)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=500,
        help="save the resumable training state every N steps (default 500; 0: only at the end)",
    )
    parser.add_argument("--val-every", type=int, default=0, help="validate every N steps (default: at the end)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run that wrote --out")
    parser.add_argument("--no-amp", dest="amp", action="store_false", help="no mixed precision on CUDA")
    parser.add_argument("--half", action="store_true", help="store the final weights as float16")
    common.add_seed_option(parser)
    common.add_device_option(parser)
    common.add_overwrite_option(parser)
    common.add_progress_option(parser)
    parser.set_defaults(func=run)


def _model_args(pairs) -> dict:
    parsed = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--model-arg '{item}': write KEY=VALUE")
        try:
            parsed[key] = json.loads(value)
        except json.JSONDecodeError:
            raise InputError(f"--model-arg '{item}': VALUE must be JSON, e.g. 32, [8,16] or true") from None
    return parsed


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    # imported here: the parser, `ipv2 --help` and argument errors load no backend
    from ipv2.services.train import TrainConfig

    return TrainConfig(
        data=list(args.data),
        val=list(args.val),
        out=args.out,
        model=args.model,
        model_args=_model_args(args.model_arg),
        steps=args.steps,
        epochs=args.epochs,
        patch=args.patch,
        batch=args.batch,
        lr=args.lr,
        loss=args.loss,
        context_slices=args.context_slices,
        seed=args.seed,
        device=args.device,
        amp=args.amp,
        checkpoint_every=args.checkpoint_every,
        val_every=args.val_every,
        resume=args.resume,
        half_weights=args.half,
        noise_conditioning=args.noise_conditioning,
    )


@common.holds_output_lock()
def run(args: argparse.Namespace) -> int:
    from ipv2.services.train import train_model

    return train_model(
        config_from_args(args),
        functools.partial(common.monitor_from_args, args),
        overwrite=args.overwrite,
        json_progress=args.progress == "json",
    )
