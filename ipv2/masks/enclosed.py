"""Enclosed dark regions in 3D: lung parenchyma, the airways joined to it, and other gas.

Sections are the in-plane components of the dark regions inside the patient. A section is a
gas section when at least `gas_section_share` of it is pure air (below the scan's air level
plus `gas_margin_hu` on the smoothed NDCT), a parenchyma section otherwise: aerated lung
reads 80 to 200 HU above air, the gas of the stomach, the bowel and the airways reads air.
Sections of each kind are grouped in 3D (6-connectivity) apart from the other kind, so that
the stomach under the dome, which overlaps the lung base from one slice to the next, stays
apart from it.

- A parenchyma group is lung when it holds at least `lung_share` of the volume of the
  largest group (a lung, or both lungs joined through the airways), or when it holds at
  least `min_lung_piece_ml` and fewer than `max_parenchyma_air_share` of its voxels are pure
  air (a piece of lung cut off by the end of the scan; gas mixed with stool holds bubbles of
  pure air). Largest is measured among the groups with an enclosed section, so that a scan
  with only the lung bases works like a full chest.
- A gas group is lung (airways) when it touches a lung group and none of its sections is
  larger than `max_airway_section_mm2`: the trachea, the larynx and main bronchi are narrow,
  the stomach under the dome is not. A gas group at least as large as the largest
  parenchyma group (and of at least `min_dark_lung_ml`) is lung too: lung as dark as air
  (emphysema) outweighs any stomach.
- Everything else enclosed is other gas and counts as body, except gas sections thinner
  than `thin_gas_mm` within `pad_reach_mm` of the outside air: an air layer of a pad or
  table, background.

Sections that touch the image border but are mostly enclosed by body (`cut` below) are
considered too: one that is parenchyma and whose group holds an enclosed section is lung
cut by the field of view; it is otherwise left background, and a warning names the slices
of those of at least `min_cut_lung_mm2`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np
from scipy import ndimage as ndi

from ipv2.masks.parameters import MaskParameters
from ipv2.masks.slicewise import bounding_box, component_sizes, label_slices

SIX_CONNECTED = ndi.generate_binary_structure(3, 1)


# Bit flags of `section_kinds`, one uint8 per voxel.
PARENCHYMA, GAS, CUT, WIDE, PURE_AIR, THIN, LARGE_CUT = 1, 2, 4, 8, 16, 32, 64
KIND_DTYPE = np.uint8


@dataclass
class EnclosedRegions:
    """Full-size boolean masks: `lung` (airways included), `other_gas` (body), `thin_gas`
    (background), `cut_lung` (lung recovered at the image border, part of `lung`)."""

    lung: np.ndarray
    other_gas: np.ndarray
    thin_gas: np.ndarray
    cut_lung: np.ndarray
    warnings: List[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def tells_gas(air_noise: Optional[float], parameters: MaskParameters) -> bool:
    """Whether pure air can be told from parenchyma: the NDCT's noise in outside air is
    known and at most max_gas_noise_hu (above it the smoothed air spreads over the
    parenchyma's levels)."""
    return bool(air_noise is not None and air_noise <= parameters.max_gas_noise_hu)


def section_kinds(enclosed: np.ndarray, cut: np.ndarray, pad_layers: np.ndarray, smooth_gt: np.ndarray,
                  air_level: float, gas_told: bool, spacing, parameters: MaskParameters) -> np.ndarray:
    """Per voxel of a stack of slices, the bit flags of its section.

    PARENCHYMA / GAS: an enclosed section, by its share of pure air; CUT: a border section
    of parenchyma mostly enclosed by body (LARGE_CUT when at least min_cut_lung_mm2); WIDE: a
    gas section larger than max_airway_section_mm2; THIN: a gas section among `pad_layers`
    (thinner than thin_gas_mm and near the outside air); PURE_AIR: a pure-air voxel of a parenchyma or cut section. Without
    `gas_told`, every enclosed section is parenchyma and no cut section is kept.
    """
    sx, sy, _ = spacing
    kinds = np.zeros(enclosed.shape, dtype=KIND_DTYPE)
    candidates = enclosed | cut if gas_told else enclosed
    if not candidates.any():
        return kinds
    pure_air = smooth_gt < air_level + parameters.gas_margin_hu
    sections, count = label_slices(candidates, connectivity=1)
    sizes = component_sizes(sections, count)
    is_cut = np.zeros(count + 1, dtype=bool)
    if gas_told:
        is_cut[sections[cut]] = True
        air = np.bincount(sections[pure_air], minlength=count + 1)
        is_gas = air >= parameters.gas_section_share * np.maximum(sizes, 1)
    else:
        is_gas = np.zeros(count + 1, dtype=bool)
    is_gas[0] = is_cut[0] = False
    is_parenchyma = ~is_gas & ~is_cut
    is_parenchyma[0] = False
    is_cut_parenchyma = is_cut & ~is_gas  # outside air reaching the border is pure air: background
    is_gas_enclosed = is_gas & ~is_cut
    is_wide = is_gas_enclosed & (sizes * sx * sy > parameters.max_airway_section_mm2)
    is_large_cut = is_cut_parenchyma & (sizes * sx * sy >= parameters.min_cut_lung_mm2)

    table = (is_parenchyma * PARENCHYMA + is_gas_enclosed * GAS + is_cut_parenchyma * CUT + is_wide * WIDE
             + is_large_cut * LARGE_CUT).astype(KIND_DTYPE)
    kinds = table[sections]
    kinds[pad_layers & ((kinds & GAS) > 0)] |= THIN
    kinds[pure_air & ((kinds & (PARENCHYMA | CUT)) > 0)] |= PURE_AIR
    return kinds


def classify_enclosed(kinds: np.ndarray, spacing, parameters: MaskParameters) -> EnclosedRegions:
    """Lung, other gas, thin gas and cut lung in 3D from the section kinds of the volume."""
    shape = kinds.shape
    regions = EnclosedRegions(lung=np.zeros(shape, dtype=bool), other_gas=np.zeros(shape, dtype=bool),
                              thin_gas=(kinds & THIN) > 0, cut_lung=np.zeros(shape, dtype=bool))
    box = bounding_box(kinds > 0)
    if box is None:
        return regions
    sx, sy, sz = spacing
    voxel_ml = sx * sy * sz / 1000.0
    kinds = kinds[box]
    parenchyma = (kinds & PARENCHYMA) > 0
    cut = (kinds & CUT) > 0
    gas = ((kinds & GAS) > 0) & ((kinds & THIN) == 0)

    groups, group_count = ndi.label(parenchyma | cut, structure=SIX_CONNECTED)
    volumes = _counts(groups, None, group_count)
    group_air = _counts(groups, (kinds & PURE_AIR) > 0, group_count)
    # Groups are judged by their enclosed part: outside air or a border piece joined to an
    # enclosed pocket must not count by its own size.
    group_enclosed = _counts(groups, parenchyma, group_count)
    reference = int(group_enclosed.max()) if group_count else 0
    is_lung_group = (group_enclosed > 0) & (
        (group_enclosed >= parameters.lung_share * reference)
        | ((group_enclosed * voxel_ml >= parameters.min_lung_piece_ml)
           & (group_air < parameters.max_parenchyma_air_share * volumes)))
    is_lung_group[0] = False
    lung = is_lung_group[groups]

    airway_groups, dark_lung_groups = _gas_groups_of_lung(gas, lung, (kinds & WIDE) > 0, voxel_ml, reference,
                                                          parameters)
    lung |= airway_groups | dark_lung_groups
    other_gas = (parenchyma | gas) & ~lung
    cut_lung = cut & lung
    missed = cut & ~lung & ((kinds & LARGE_CUT) > 0)
    regions.warnings = _cut_warnings(missed, box[0].start)
    for name, part in (("lung", lung), ("other_gas", other_gas), ("cut_lung", cut_lung)):
        getattr(regions, name)[box] = part
    regions.info = {"lung_groups": int(np.count_nonzero(is_lung_group)),
                    "airways_joined": bool(airway_groups.any()), "dark_lung": bool(dark_lung_groups.any()),
                    "cut_lung_slices": _slice_ranges(np.flatnonzero(cut_lung.any(axis=(1, 2))) + box[0].start)}
    return regions


def _counts(labels: np.ndarray, mask: Optional[np.ndarray], count: int) -> np.ndarray:
    """Voxels of each label (within `mask` if given); label 0 counts nothing."""
    values = labels[labels > 0] if mask is None else labels[mask & (labels > 0)]
    return np.bincount(values, minlength=count + 1)


def _gas_groups_of_lung(gas: np.ndarray, lung: np.ndarray, wide: np.ndarray, voxel_ml: float, reference: int,
                        parameters: MaskParameters):
    """Gas groups that are lung: airways (touching the lung, 6-connected, and narrow in
    every slice) and lungs as dark as air (at least as large as the largest parenchyma
    group and min_dark_lung_ml: emphysema, or parenchyma that reads air)."""
    none = np.zeros(gas.shape, dtype=bool)
    box = bounding_box(gas)
    if box is None:
        return none, none.copy()
    gas_box, lung_box = gas[box], lung[box]
    groups, count = ndi.label(gas_box, structure=SIX_CONNECTED)
    touching = np.zeros(count + 1, dtype=bool)
    for axis in range(3):
        for shift in (1, -1):
            ahead = [slice(None)] * 3
            behind = [slice(None)] * 3
            ahead[axis] = slice(shift, None) if shift > 0 else slice(None, shift)
            behind[axis] = slice(None, -shift) if shift > 0 else slice(-shift, None)
            meets = lung_box[tuple(ahead)] & gas_box[tuple(behind)]
            touching[groups[tuple(behind)][meets]] = True
    # Gas touching the lung across the box edge: the box holds all gas, and lung outside
    # it is reached only through its faces, which the shifts above do not see.
    touching |= _touching_across_box(groups, lung, box, count)
    is_wide = _counts(groups, wide[box], count) > 0
    is_airway = touching & ~is_wide
    volumes = _counts(groups, None, count)
    is_dark_lung = (volumes >= reference) & (volumes * voxel_ml >= parameters.min_dark_lung_ml) & ~is_airway
    is_airway[0] = is_dark_lung[0] = False
    airways, dark = none, none.copy()
    airways[box] = is_airway[groups]
    dark[box] = is_dark_lung[groups]
    return airways, dark


def _touching_across_box(groups: np.ndarray, lung: np.ndarray, box, count: int) -> np.ndarray:
    touching = np.zeros(count + 1, dtype=bool)
    for axis in range(3):
        span = box[axis]
        for inner, outer in ((span.start, span.start - 1), (span.stop - 1, span.stop)):
            if outer < 0 or outer >= lung.shape[axis]:
                continue
            face = [box[0], box[1], box[2]]
            face[axis] = outer
            beyond = lung[tuple(face)]
            index = [slice(None)] * 3
            index[axis] = inner - span.start
            touching[groups[tuple(index)][beyond]] = True
    return touching


def _cut_warnings(missed: np.ndarray, first_slice: int) -> List[str]:
    slices = np.flatnonzero(missed.any(axis=(1, 2))) + first_slice
    if slices.size == 0:
        return []
    return [f"lung cut by the field of view could not be told from outside air in slices "
            f"{_slice_ranges(slices)} (z index): it is left background; reconstruct the full chest"]


def _slice_ranges(slices: np.ndarray) -> str:
    """'3-7, 12' for slices [3, 4, 5, 6, 7, 12]."""
    if slices.size == 0:
        return ""
    breaks = np.flatnonzero(np.diff(slices) > 1)
    starts = np.concatenate([[slices[0]], slices[breaks + 1]])
    stops = np.concatenate([slices[breaks], [slices[-1]]])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in zip(starts.tolist(), stops.tolist()))

