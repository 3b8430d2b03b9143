"""Slices with a thickness: the anatomy of each breathing state averaged over the slice profile.

A slice of thickness t is the mean of the noise-free anatomy on the planes z + o_j
(`Acquisition.plane_offsets_mm`, the centre plane first); each plane is rendered at full
sharpness on the grid shifted by o_j, so the average is a box profile along z without
resampling. HU is averaged (attenuation is linear in HU, as the detector sums it); the
tissue of a voxel is the one found on most planes, the centre plane's on a tie; the
displacement is the centre plane's (the field is smooth along z).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional, Sequence, Tuple

import numpy as np

from ipv2.phantom.model import PhantomModel
from ipv2.phantom.render import RenderedState, block_count, render_state
from ipv2.progress import Monitor


def most_frequent(tissues: Sequence[np.ndarray]) -> np.ndarray:
    """Per voxel, the value found in most of `tissues`; ties go to the earliest array."""
    best = tissues[0].copy()
    best_votes = np.zeros(best.shape, dtype=np.uint8)
    for candidate in tissues:
        votes = np.zeros(best.shape, dtype=np.uint8)
        for other in tissues:
            votes += candidate == other
        better = votes > best_votes
        best[better] = candidate[better]
        best_votes = np.maximum(best_votes, votes)
    return best


def render_states(model: PhantomModel, offsets_mm: Sequence[float],
                  monitor: Optional[Monitor] = None) -> Tuple[RenderedState, RenderedState]:
    """(NDCT state, uLDCT state) with each slice averaged over the planes at `offsets_mm`
    (the first one 0, the centre plane)."""
    if len(offsets_mm) == 0 or offsets_mm[0] != 0:
        raise ValueError("the centre plane (offset 0) comes first")
    blocks = block_count(model)
    total = 2 * blocks * len(offsets_mm)
    states = []
    for s, deformed in enumerate((False, True)):
        hu_sum, tissues, centre = None, [], None
        for j, offset in enumerate(offsets_mm):
            plane_model = model if offset == 0 else replace(model, grid=model.grid.shifted(offset))
            state = render_state(plane_model, deformed=deformed, monitor=monitor,
                                 step_offset=(s * len(offsets_mm) + j) * blocks, total_steps=total)
            if centre is None:
                centre, hu_sum = state, state.hu.astype(np.float64) if len(offsets_mm) > 1 else state.hu
            else:
                hu_sum += state.hu
            tissues.append(state.tissue)
        if len(offsets_mm) == 1:
            states.append(centre)
            continue
        states.append(RenderedState(hu=(hu_sum / len(offsets_mm)).astype(np.float32), tissue=most_frequent(tissues),
                                    displacement=centre.displacement))
    return states[0], states[1]
