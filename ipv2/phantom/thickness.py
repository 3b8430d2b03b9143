"""Slices with a thickness: the anatomy of each breathing state averaged over the slice profile.

The anatomy is rendered at full sharpness on planes a step d apart (d = slice_mm / m, so
every slice centre is a plane) reaching t/2 beyond the first and last slice. Each plane
stands for the d mm around it; slice k, centred at z_k with a box profile of width t, is the
weighted mean of the planes, with weights

    w[k, i] = |[z_i - d/2, z_i + d/2] ∩ [z_k - t/2, z_k + t/2]| / t,    sum_i w[k, i] = 1.

HU is averaged (attenuation is linear in HU, as the detector sums it); the tissue of a voxel
is the one with the largest total weight, the centre plane's on a tie; the displacement is
the centre plane's (the field is smooth along z). One regular grid of planes, rather than
one shifted copy of the scan's grid per offset, keeps the rasteriser's rule for tubes thinner
than the plane step (drawn into the nearest plane) from counting a tube once per copy.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ipv2.phantom.acquisition import Acquisition
from ipv2.phantom.grid import PhantomGrid
from ipv2.phantom.model import PhantomModel
from ipv2.phantom.render import RenderedState, block_count, render_state
from ipv2.progress import Monitor


def slice_weights(slice_z_mm: np.ndarray, plane_z_mm: np.ndarray, thickness_mm: float) -> np.ndarray:
    """w[k, i]: the share of plane i in slice k (box profile of width `thickness_mm`)."""
    step = float(plane_z_mm[1] - plane_z_mm[0]) if len(plane_z_mm) > 1 else thickness_mm
    z, p = np.asarray(slice_z_mm, float)[:, None], np.asarray(plane_z_mm, float)[None, :]
    overlap = np.minimum(p + step / 2, z + thickness_mm / 2) - np.maximum(p - step / 2, z - thickness_mm / 2)
    overlap[overlap < 1e-6 * step] = 0.0  # planes that only touch the box, to rounding
    return overlap / thickness_mm


def plane_grid(grid: PhantomGrid, acquisition: Acquisition) -> tuple[PhantomGrid, np.ndarray]:
    """The grid of planes and the weights (slices x planes); planes of no slice are left out."""
    step, per_slice, thickness = acquisition.plane_step_mm, acquisition.planes_per_slice, acquisition.thickness_mm
    if thickness is None:
        raise ValueError("plane_grid: the acquisition samples each slice's centre plane; there are no planes to grid")
    reach = int(np.ceil(thickness / (2 * step) + 0.5))
    first = float(grid.axis("z")[0]) - reach * step
    count = (grid.shape[0] - 1) * per_slice + 1 + 2 * reach
    planes = first + step * np.arange(count)
    weights = slice_weights(grid.axis("z").astype(float), planes, thickness)
    used = np.flatnonzero(weights.sum(axis=0) > 0)
    lo, hi = int(used[0]), int(used[-1]) + 1
    planes, weights = planes[lo:hi], weights[:, lo:hi]
    n = hi - lo
    # A grid's planes are centred on z = z_offset; here they start at planes[0].
    fine = PhantomGrid(
        (n, grid.shape[1], grid.shape[2]),
        (grid.spacing[0], grid.spacing[1], step),
        z_offset_mm=float(planes[0] + (n - 1) / 2.0 * step),
    )
    return fine, weights


def _weighted_majority(tissue: np.ndarray, planes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per pixel, the tissue of `planes` (indices, the centre first) with the most weight."""
    best = tissue[planes[0]].copy()
    best_weight = np.full(best.shape, -1.0, dtype=np.float32)
    for i in planes:
        weight = np.zeros(best.shape, dtype=np.float32)
        for j in planes:
            weight += np.float32(weights[j]) * (tissue[j] == tissue[i])
        better = weight > best_weight
        best[better] = tissue[i][better]
        np.maximum(best_weight, weight, out=best_weight)
    return best


def _average(state: RenderedState, weights: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nz = weights.shape[0]
    hu = np.empty((nz,) + state.hu.shape[1:], dtype=np.float32)
    tissue = np.empty((nz,) + state.tissue.shape[1:], dtype=np.uint8)
    for k in range(nz):
        planes = np.flatnonzero(weights[k] > 0)
        planes = planes[np.argsort(np.abs(planes - centres[k]), kind="stable")]
        hu[k] = np.tensordot(weights[k, planes].astype(np.float32), state.hu[planes], axes=1)
        tissue[k] = _weighted_majority(state.tissue, planes, weights[k])
    return hu, tissue


def render_states(
    model: PhantomModel, acquisition: Acquisition, monitor: Monitor | None = None
) -> tuple[RenderedState, RenderedState]:
    """(NDCT state, uLDCT state) on the model's grid, each slice through the acquisition's
    slice profile."""
    if acquisition.thickness_mm is None:
        blocks = block_count(model)
        ndct = render_state(model, deformed=False, monitor=monitor, total_steps=2 * blocks)
        uldct = render_state(model, deformed=True, monitor=monitor, step_offset=blocks, total_steps=2 * blocks)
        return ndct, uldct
    grid = model.grid
    fine, weights = plane_grid(grid, acquisition)
    fine_model = replace(model, grid=fine)
    centres = np.rint((grid.axis("z").astype(float) - float(fine.axis("z")[0])) / fine.spacing[2]).astype(int)
    blocks = block_count(fine_model)
    states = []
    for s, deformed in enumerate((False, True)):
        state = render_state(
            fine_model, deformed=deformed, monitor=monitor, step_offset=s * blocks, total_steps=2 * blocks
        )
        hu, tissue = _average(state, weights, centres)
        displacement = state.displacement[centres] if state.displacement is not None else None
        states.append(RenderedState(hu=hu, tissue=tissue, displacement=displacement))
    return states[0], states[1]
