"""Seeded photon noise, drawn slice by slice so that results do not depend on batching."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence

import numpy as np
import torch


def slice_generators(seed: int, slice_indices: Sequence[int], device: torch.device) -> List[torch.Generator]:
    """One generator per slice, keyed by (seed, slice index)."""
    generators = []
    for index in slice_indices:
        state = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(index),)).generate_state(1, np.uint64)[0]
        generator = torch.Generator(device=device)
        generator.manual_seed(int(state))
        generators.append(generator)
    return generators


def _per_slice(function, count: int, device: torch.device) -> None:
    # torch's samplers run on one core; slices are independent, so spread them on the CPU.
    if device.type == "cpu" and count > 1 and torch.get_num_threads() > 1:
        with ThreadPoolExecutor(max_workers=min(count, torch.get_num_threads())) as pool:
            list(pool.map(function, range(count)))
    else:
        for index in range(count):
            function(index)


def poisson_plus_gaussian(expected: torch.Tensor, gaussian_std: Optional[torch.Tensor],
                          generators: List[torch.Generator]) -> torch.Tensor:
    """Poisson(expected) + N(0, gaussian_std^2), slice i drawn from generators[i]."""
    counts = torch.empty_like(expected)

    def draw(i: int) -> None:
        sample = torch.poisson(expected[i], generator=generators[i])
        if gaussian_std is not None:
            normal = torch.randn(expected[i].shape, generator=generators[i], device=expected.device,
                                 dtype=expected.dtype)
            sample = sample + normal * gaussian_std[i]
        counts[i] = sample

    _per_slice(draw, expected.shape[0], expected.device)
    return counts


def gaussian(shape_like: torch.Tensor, generators: List[torch.Generator]) -> torch.Tensor:
    """Standard normal samples shaped like `shape_like`, slice i drawn from generators[i]."""
    out = torch.empty_like(shape_like)

    def draw(i: int) -> None:
        out[i] = torch.randn(shape_like[i].shape, generator=generators[i], device=shape_like.device,
                             dtype=shape_like.dtype)

    _per_slice(draw, shape_like.shape[0], shape_like.device)
    return out
