"""`ipv2 models`' work: a row for each denoiser `ipv2 denoise --model` takes, the registered
networks (their size and cost, and whether bundled weights are present) and then the
classical methods, which need no weights."""

from __future__ import annotations

from ipv2.contract import CLASSICAL_DENOISERS, DEFAULT_MODEL, NETWORKS
from ipv2.denoise.classical import CLASSICAL_SPECS
from ipv2.models.bundled import bundled_models_dir, bundled_weights_path
from ipv2.models.checkpoint import checkpoint_summary
from ipv2.models.registry import MODEL_REGISTRY, count_parameters, gflops_per_slice


def models_listing() -> dict:
    """What `ipv2 models --json` prints: the rows and the folder the bundled weights are looked for in."""
    return {"models": model_rows(), "weights_dir": str(bundled_models_dir())}


def model_rows() -> list:
    """One row for each denoiser `ipv2 denoise --model` takes, in the contract's order."""
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
