"""Choosing the projector: the NUFFT path on the CPU, the direct path on a GPU."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Union

import torch

from ipv2.errors import require_choice
from ipv2.simulate.direct_projector import DirectProjector
from ipv2.simulate.geometry import ParallelBeamGeometry
from ipv2.simulate.nufft_projector import NufftProjector

PROJECTOR_CHOICES = ("auto", "nufft", "direct")
Projector = Union[NufftProjector, DirectProjector]


@lru_cache(maxsize=8)
def _cached_nufft(geometry: ParallelBeamGeometry) -> NufftProjector:
    return NufftProjector(geometry)


_nufft_lock = threading.Lock()


def make_projector(geometry: ParallelBeamGeometry, device: torch.device, kind: str = "auto") -> Projector:
    """`auto`: finufft on the CPU (O(n^2 log n)), rotate-and-sum on CUDA (massively parallel)."""
    require_choice(kind, PROJECTOR_CHOICES, "projector")
    if kind == "auto":
        kind = "direct" if device.type == "cuda" else "nufft"
    if kind == "direct":
        return DirectProjector(geometry, device)
    with _nufft_lock:
        return _cached_nufft(geometry)
