"""Validation on held-out pairs: root-mean-square error against the target, in the data's units."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ipv2.denoise.inference import predict_slices
from ipv2.models.normalization import Normalization
from ipv2.progress import Monitor
from ipv2.training.data import TrainingPair, centre_slices


def evenly_spaced(candidates: np.ndarray, limit: int) -> np.ndarray:
    """At most `limit` of `candidates` (all if `limit` is 0 or more than there are), evenly spread."""
    count = candidates.size
    if limit <= 0 or limit >= count:
        return candidates
    return candidates[np.unique(np.linspace(0, count - 1, limit).round().astype(int))]


def validate_model(
    model: nn.Module,
    pairs: Sequence[TrainingPair],
    normalization: Normalization,
    *,
    context_slices: int,
    device: torch.device,
    max_slices: int = 16,
    monitor: Monitor | None = None,
    noise_scale_hu: float | None = None,
) -> dict:
    """RMSE of the model's output and of the untouched input against the targets, over whole
    slices: those a model with `context_slices` learns from (`centre_slices`)."""
    was_training = model.training
    squared_model = squared_input = 0.0
    pixels = 0
    for pair in pairs:
        slices = evenly_spaced(centre_slices(pair.slices, context_slices), max_slices)
        predicted = predict_slices(
            model,
            normalization,
            pair.inputs,
            context_slices=context_slices,
            device=device,
            slices=slices,
            monitor=monitor,
            stage="validate",
            noise_levels=pair.noise_levels() if noise_scale_hu else None,
            noise_scale_hu=noise_scale_hu,
        )
        target = pair.target[slices].astype(np.float64)
        squared_model += float(np.sum((predicted - target) ** 2))
        squared_input += float(np.sum((pair.inputs[slices] - target) ** 2))
        pixels += target.size
    model.train(was_training)
    return {
        "rmse": float(np.sqrt(squared_model / pixels)),
        "input_rmse": float(np.sqrt(squared_input / pixels)),
        "unit": normalization.unit,
        "pairs": len(pairs),
    }
