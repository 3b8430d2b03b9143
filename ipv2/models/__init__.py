"""Denoising networks: RED-CNN, DnCNN, a compact residual U-Net and a compact Restormer.

Every network maps a batch of normalised slices (N, C, H, W), C = 1 or 1 + 2 * context
slices, to the denoised centre slice (N, 1, H, W), adding its prediction to the input.
"""

from ipv2.models.bundled import bundled_models_dir, bundled_weights_path
from ipv2.models.registry import (
    DEFAULT_MODEL,
    MODEL_REGISTRY,
    ModelSpec,
    build_model,
    count_parameters,
    gflops_per_slice,
    model_spec,
)

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_REGISTRY",
    "ModelSpec",
    "build_model",
    "bundled_models_dir",
    "bundled_weights_path",
    "count_parameters",
    "gflops_per_slice",
    "model_spec",
]
