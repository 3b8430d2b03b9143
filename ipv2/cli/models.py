"""`ipv2 models`: the registered denoisers, their cost, which have bundled weights, and the
classical methods `ipv2 denoise --model` also takes (the rows are `ipv2.services.models`')."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the denoising models",
        description="List the registered denoising models: parameters, GFLOPs per 512x512 slice, "
        "the default, and whether bundled weights are present; then the classical methods, "
        "which need no weights.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(func=run)


def _table_line(row: dict) -> str:
    name = row["name"] + (" *" if row["default"] else "")
    if row["kind"] == "classical":
        return f"{name:<11}{'-':>11}{'-':>14}  {'classical':<10}{row['description']}"
    weights = "bundled" if row["bundled_weights"] else "-"
    return f"{name:<11}{row['params']:>11,}{row['gflops_per_slice']:>14.1f}  {weights:<10}{row['description']}"


def run(args: argparse.Namespace) -> int:
    # imported here: the parser, `ipv2 --help` and argument errors load no backend
    from ipv2.services.models import models_listing

    listing = models_listing()
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    header = f"{'model':<11}{'params':>11}{'GFLOPs/slice':>14}  {'weights':<10}description"
    print(header)
    print("-" * len(header))
    for row in listing["models"]:
        print(_table_line(row))
    print(f"\n* default model. GFLOPs per 512x512 slice. Bundled weights: {listing['weights_dir']}")
    return 0
