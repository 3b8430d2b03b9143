"""Seeded photon noise, drawn slice by slice so that results do not depend on batching."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

# Above this many expected photons a Poisson count is drawn from its normal approximation.
EXACT_POISSON_BELOW = 1.0e4


def slice_generators(seed: int, slice_indices: Sequence[int], device: torch.device) -> list[torch.Generator]:
    """One generator per slice, keyed by (seed, slice index)."""
    generators = []
    for index in slice_indices:
        state = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(index),)).generate_state(1, np.uint64)[0]
        generator = torch.Generator(device=device)
        generator.manual_seed(int(state))
        generators.append(generator)
    return generators


def poisson_plus_gaussian(
    expected: torch.Tensor, gaussian_std: torch.Tensor | None, generators: list[torch.Generator]
) -> torch.Tensor:
    """Poisson(expected) + N(0, gaussian_std^2), slice i drawn from generators[i].

    Poisson counts are drawn exactly below EXACT_POISSON_BELOW expected photons and from
    the normal N(mean, mean) above, where the two differ by a skewness under 1%; a normal
    draw costs a fraction of a Poisson one.
    """
    counts = torch.empty_like(expected)

    def draw(i: int) -> None:
        mean = expected[i]
        sample = mean + torch.sqrt(mean) * _normal(mean, generators[i])
        few = mean < EXACT_POISSON_BELOW
        if bool(few.any()):
            sample[few] = torch.poisson(mean[few], generator=generators[i])
        if gaussian_std is not None:
            sample = sample + _normal(mean, generators[i]) * gaussian_std[i]
        counts[i] = sample

    for i in range(expected.shape[0]):
        draw(i)
    return counts


def _normal(like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)


def gaussian(shape_like: torch.Tensor, generators: list[torch.Generator]) -> torch.Tensor:
    """Standard normal samples shaped like `shape_like`, slice i drawn from generators[i]."""
    out = torch.empty_like(shape_like)

    def draw(i: int) -> None:
        out[i] = _normal(shape_like[i], generators[i])

    for i in range(shape_like.shape[0]):
        draw(i)
    return out
