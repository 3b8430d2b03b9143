"""What the benchmarks share to give a 2.5D model the slices it reads: how many neighbours a
method reads, the slab of each scored slice, and denoising slab by slab.

A benchmark scores slices spread over a scan; a model that reads k neighbouring slices on
each side must get each scored slice inside its own slab of the scan, never another scored
slice as a neighbour. Imported by the benchmarks next to it (run from this folder, or with it
on sys.path).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

INPUT = "input"


def method_context(method: str) -> int:
    """The neighbouring slices on each side that `method` (MODEL@STRENGTH, bm3d, nlm or the
    input) reads."""
    from ipv2.denoise.classical import CLASSICAL_DENOISERS
    from ipv2.denoise.inference import resolve_model

    if method == INPUT or method in CLASSICAL_DENOISERS:
        return 0
    return resolve_model(method.partition("@")[0]).context_slices


def widest_context(methods: Iterable[str]) -> int:
    """The most neighbouring slices on each side that any of `methods` reads."""
    return max([0] + [method_context(method) for method in methods])


def slab_indices(picked, context: int, depth: int) -> np.ndarray:
    """Each picked slice of a `depth`-slice scan with its `context` neighbours on each side
    (repeated at the scan's ends), slab after slab: the centres are every (2 context + 1)-th
    from `context` on."""
    offsets = np.arange(-context, context + 1)
    return np.clip(np.asarray(picked)[:, None] + offsets[None, :], 0, depth - 1).ravel()


def denoise_by_slab(
    denoise: Callable[[np.ndarray], np.ndarray], slices: np.ndarray, slab_depth: int | None, reads_neighbours: bool
) -> np.ndarray:
    """`denoise` applied to `slices`, slabs of `slab_depth` slices one after another (one slab
    when None): slab by slab for a method that reads neighbours, so that it never reads one
    slab's slice as another's neighbour; all at once otherwise, as a 2D or classical method
    measures its noise level over everything it is given."""
    if slab_depth is None or slab_depth >= len(slices) or not reads_neighbours:
        return denoise(slices)
    return np.concatenate([denoise(slices[start : start + slab_depth]) for start in range(0, len(slices), slab_depth)])
