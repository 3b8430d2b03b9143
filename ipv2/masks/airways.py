"""Trachea and main bronchi inside the lung mask, by a 3D heuristic.

The trachea is the only air-filled tube at one end of the lung's z-range: slices there have
a small dark area inside the patient. Starting from those slices, the airway tree is the 3D
component (6-connectivity) of voxels that are dark enough to be pure air on the smoothed
NDCT (lung parenchyma, about -850 HU, is not), restricted to the lung. Growth through
smoothing-blurred small bronchi stops by itself; if it still leaks into the parenchyma
(emphysema, noise), which shows as an airway tree out of proportion to the lung, it is
retried at stricter air levels and otherwise given up.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
from scipy import ndimage as ndi

from ipv2.masks.parameters import MaskParameters
from ipv2.masks.slicewise import component_sizes, label_slices

AIRWAY_LEVELS_DTYPE = np.uint8
# A lung component at least this much covered by grown airways is airway as a whole.
WHOLE_COMPONENT_SHARE = 0.5


def find_airways(lung: np.ndarray, airway_levels: np.ndarray, spacing, parameters: MaskParameters
                 ) -> Tuple[np.ndarray, dict]:
    """Boolean airway mask (a subset of `lung`) and a record of how it was found.

    `airway_levels` counts, per voxel, how many of the air levels (airway_hu, then each of
    airway_steps_hu) the smoothed NDCT is below.
    """
    sx, sy, sz = spacing
    airways = np.zeros(lung.shape, dtype=bool)
    area_mm2 = lung.sum(axis=(1, 2)) * (sx * sy)
    present = np.flatnonzero(area_mm2 > 0)
    if present.size == 0:
        return airways, {"found": False, "reason": "no lung"}

    tube = _trachea_slices(area_mm2, present[0], present[-1], parameters.max_trachea_mm2)
    tube_mm = (tube.stop - tube.start) * sz
    if tube_mm < parameters.min_trachea_mm:
        return airways, {"found": False, "reason": f"no trachea: the air tube at either end of the lung "
                                                   f"runs {tube_mm:.1f} mm (< {parameters.min_trachea_mm:g} mm)"}
    if tube.start == present[0] and tube.stop == present[-1] + 1:
        return airways, {"found": False, "reason": "no trachea: every slice has a small lung area, "
                                                   "so no slice tells a trachea from lungs"}

    trachea_slices = [int(tube.start), int(tube.stop)]
    lung_voxels = int(np.count_nonzero(lung))
    levels_hu = (parameters.airway_hu,) + tuple(parameters.airway_steps_hu)
    leaked = False
    for level, level_hu in enumerate(levels_hu, start=1):
        grown = _grow_from(lung & (airway_levels >= level), tube)
        if grown is None:
            break  # stricter levels hold even fewer voxels
        if np.count_nonzero(grown) <= parameters.max_airway_fraction * lung_voxels:
            airways = _with_whole_airway_components(grown, lung)
            return airways, {"found": True, "level_hu": level_hu, "trachea_slices": trachea_slices}
        leaked = True
    reason = ("airway growth leaked into the lung at every air level" if leaked else
              f"no air below {parameters.airway_hu:g} HU in the trachea slices of the NDCT")
    return airways, {"found": False, "reason": reason, "trachea_slices": trachea_slices}


def _trachea_slices(area_mm2: np.ndarray, first: int, last: int, max_area_mm2: float) -> slice:
    """The longer run of small-area slices at either end of the lung's z-range."""
    small = (area_mm2 > 0) & (area_mm2 <= max_area_mm2)

    run_up = 0
    while first + run_up <= last and small[first + run_up]:
        run_up += 1
    run_down = 0
    while last - run_down >= first and small[last - run_down]:
        run_down += 1
    if run_up >= run_down:
        return slice(first, first + run_up)
    return slice(last - run_down + 1, last + 1)


def _with_whole_airway_components(grown: np.ndarray, lung: np.ndarray) -> np.ndarray:
    """Grown airways plus every in-plane lung component that is mostly airway.

    Smoothing moves the pure-air level about 1.6 sigma inside the lumen. Where the trachea
    or a bronchus runs through the mediastinum it is a lung component of its own, whose
    -500 HU edge is the true wall, so such components are taken whole; inside the
    parenchyma the grown lumen is kept as it is.
    """
    rows = np.flatnonzero(grown.any(axis=(1, 2)))
    span = slice(rows[0], rows[-1] + 1)
    labels, count = label_slices(lung[span], connectivity=1)
    sizes = component_sizes(labels, count)
    airway_counts = np.bincount(labels[grown[span]], minlength=count + 1)
    mostly_airway = airway_counts >= WHOLE_COMPONENT_SHARE * np.maximum(sizes, 1)
    mostly_airway[0] = False
    result = grown.copy()
    result[span] |= mostly_airway[labels]
    return result


def _grow_from(candidate: np.ndarray, seed_slices: slice):
    """The 3D component of candidate holding the most voxels within seed_slices, or None."""
    box = _bounding_box(candidate)
    if box is None:
        return None
    labels, count = ndi.label(candidate[box], structure=ndi.generate_binary_structure(3, 1))
    seeds = labels[max(seed_slices.start - box[0].start, 0):max(seed_slices.stop - box[0].start, 0)]
    seed_counts = np.bincount(seeds[seeds > 0].astype(np.intp), minlength=count + 1)
    if count == 0 or seed_counts.max() == 0:
        return None
    grown = np.zeros(candidate.shape, dtype=bool)
    grown[box] = labels == int(np.argmax(seed_counts))
    return grown


def _bounding_box(mask: np.ndarray):
    """Slices of the smallest box holding every set voxel, or None for an empty mask."""
    box = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        present = np.flatnonzero(mask.any(axis=others))
        if present.size == 0:
            return None
        box.append(slice(int(present[0]), int(present[-1]) + 1))
    return tuple(box)
