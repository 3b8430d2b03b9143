"""`ipv2 models`: the registered denoisers, their cost, which have bundled weights, and the
classical methods `ipv2 denoise --model` also takes."""

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


def model_rows() -> list:
    """One row for each denoiser `ipv2 denoise --model` takes, in the contract's order."""
    from ipv2.contract import CLASSICAL_DENOISERS, DEFAULT_MODEL, NETWORKS
    from ipv2.denoise.classical import CLASSICAL_SPECS
    from ipv2.models.bundled import bundled_weights_path
    from ipv2.models.checkpoint import checkpoint_summary
    from ipv2.models.registry import MODEL_REGISTRY, count_parameters, gflops_per_slice

    rows = []
    for name in NETWORKS:
        spec = MODEL_REGISTRY[name]
        weights = bundled_weights_path(name)
        record = checkpoint_summary(weights) if weights else None
        if record is None or record.get("architecture") != name:
            # A file that does not read as this model's checkpoint is not bundled weights.
            weights, record = None, None
        # Figures describe what `ipv2 denoise --model NAME` runs: the bundled network when there is one.
        arch_args = record.get("arch_args", {}) if record else {}
        context = int(record.get("context_slices", 0)) if record else 0
        conditioned = bool(record and record.get("noise_conditioning"))
        network = spec.build(in_channels=int(conditioned) + 1 + 2 * context, **arch_args)
        rows.append(
            {
                "name": name,
                "kind": "network",
                "default": name == DEFAULT_MODEL,
                "params": count_parameters(network),
                "gflops_per_slice": round(gflops_per_slice(network), 1),
                "bundled_weights": str(weights) if weights else None,
                "description": spec.description,
                "reference": spec.reference,
            }
        )
    for name in CLASSICAL_DENOISERS:
        classical = CLASSICAL_SPECS[name]
        # Not a network: no parameters or GFLOPs to count, and nothing to load.
        rows.append(
            {
                "name": name,
                "kind": "classical",
                "default": False,
                "params": None,
                "gflops_per_slice": None,
                "bundled_weights": None,
                "description": classical.description,
                "reference": classical.reference,
            }
        )
    return rows


def _table_line(row: dict) -> str:
    name = row["name"] + (" *" if row["default"] else "")
    if row["kind"] == "classical":
        return f"{name:<11}{'-':>11}{'-':>14}  {'classical':<10}{row['description']}"
    weights = "bundled" if row["bundled_weights"] else "-"
    return f"{name:<11}{row['params']:>11,}{row['gflops_per_slice']:>14.1f}  {weights:<10}{row['description']}"


def run(args: argparse.Namespace) -> int:
    from ipv2.models.bundled import bundled_models_dir

    rows = model_rows()
    if args.json:
        print(json.dumps({"models": rows, "weights_dir": str(bundled_models_dir())}, indent=2))
        return 0
    header = f"{'model':<11}{'params':>11}{'GFLOPs/slice':>14}  {'weights':<10}description"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(_table_line(row))
    print(f"\n* default model. GFLOPs per 512x512 slice. Bundled weights: {bundled_models_dir()}")
    return 0
