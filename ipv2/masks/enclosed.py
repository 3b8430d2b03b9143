"""Enclosed dark regions in 3D: lung parenchyma, the airways joined to it, and other gas.

Sections are the in-plane components of the dark regions inside the patient. A section is a
gas section when at least `gas_section_share` of it is pure air (below the scan's air level
plus `gas_margin_hu` on the smoothed NDCT), a parenchyma section otherwise: aerated lung
reads 80 to 200 HU above air, the gas of the stomach, the bowel and the airways reads air.
Sections of each kind are grouped in 3D apart from the other kind (two sections of adjacent
slices join when they share a pixel, which is 6-connectivity), so that the stomach under the
dome, which overlaps the lung base from one slice to the next, stays apart from it.

- A parenchyma group is lung when its enclosed part holds at least `lung_share` of that of
  the largest group (a lung, or both lungs joined through the airways), or at least
  `min_lung_piece_ml` with a share of pure-air voxels below `max_parenchyma_air_share`
  and below twice that of the largest group plus 0.5% (a piece of lung cut off by the end
  of the scan reads like the lung; gas mixed with stool holds bubbles of pure air).
  Largest is measured among the groups of the scan, so a scan with only the lung bases
  works like a full chest.
- Airways: the sections not yet lung and at most `max_airway_section_mm2` (gas, or
  parenchyma outside the lung groups: the trachea's air reads above the pure-air level
  where the shoulders darken the image) are joined across slices whatever their kind; such
  a tube is lung when it touches a lung group, its voxels lie on average within
  `trachea_offcentre_share` of the patient's width from the patient's middle, and it is
  as a whole at least `gas_section_share` pure air. The trachea, larynx and main bronchi
  qualify; the stomach's narrow top under the dome lies to the left, and bowel gas mixed
  with stool that touches a lung base is mostly not pure air.
- A gas group at least ten times as large as the largest parenchyma group (and of at
  least `min_dark_lung_ml`) is lung too: lung as dark as air (emphysema) outweighs the
  stomach, which beside even small lung bases is not that much larger.
- Everything else enclosed is other gas and counts as body.
- Enclosed sections thinner than `thin_gas_mm` within `pad_reach_mm` of the outside air
  are air layers of a pad or table, whatever they read (smoothing lifts a 2 mm layer far
  above air): background. The chest wall is over 10 mm thick, so no lung is that close.

Sections that touch the image border but are mostly enclosed by body (`cut`) take part too:
one of parenchyma whose group is lung by its enclosed part is lung cut by the field of view;
otherwise it stays background, and a warning names the slices of those of at least
`min_cut_lung_mm2`.

The work is split as the masks are: each chunk of slices labels and measures its sections,
`section_table` tells their kind once the scan's air level is known and `section_links`
finds which share a pixel across slices; `classify_sections` builds the groups from the
tables and links alone, and `regions_of` turns its answer into masks chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ipv2.masks.chunk_sections import SectionMeasures
from ipv2.masks.parameters import MaskParameters

SECTION_DTYPE = np.int32
# Kinds of section.
PARENCHYMA, GAS, CUT, THIN, MOVED = 1, 2, 3, 4, 5
PIECE_AIR_SLACK = 0.005
# A gas group this many times larger than the largest parenchyma group is lung that reads
# air; a stomach, even beside small lung bases, is not that much larger.
DARK_LUNG_RATIO = 10.0
# What each section is in the end.
NOTHING, LUNG, OTHER_GAS, THIN_GAS, CUT_LUNG = 0, 1, 2, 3, 4


@dataclass
class Classification:
    """`by_label[label]`: what the section of that label is (NOTHING, LUNG, OTHER_GAS,
    THIN_GAS or CUT_LUNG); the warnings and a record for `info`."""

    by_label: np.ndarray
    warnings: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def tells_gas(air_noise: float | None, parameters: MaskParameters) -> bool:
    """Whether pure air can be told from parenchyma: the NDCT's noise in outside air is
    known and at most max_gas_noise_hu (above it the smoothed air spreads over the
    parenchyma's levels)."""
    return bool(air_noise is not None and air_noise <= parameters.max_gas_noise_hu)


def section_table(
    sections: np.ndarray,
    measures: SectionMeasures,
    smooth_gt: np.ndarray,
    dark_gt: np.ndarray,
    lq: np.ndarray,
    first_slice: int,
    offset: int,
    air_level: float,
    gas_told: bool,
    spacing,
    parameters: MaskParameters,
) -> dict[str, np.ndarray]:
    """The table of a chunk's sections; relabels `sections` in place to be unique in the volume.

    `sections` holds the chunk's own labels (0 elsewhere) and `measures` their voxels, z, x
    and kept, cut and pad flags. Labels become offset + own label, the offset counting the
    labels of the chunks before, so chunks never share one; cut sections of pure air (outside
    air) are dropped. The table maps names to
    one value per section: id, z (slice), x (mean column), voxels, pure_air (voxels), kind,
    wide (larger than max_airway_section_mm2), large (at least min_cut_lung_mm2). Without
    `gas_told` every enclosed section is parenchyma and no cut section is kept.
    """
    sx, sy, _ = spacing
    count, sizes = measures.count, measures.voxels
    present = measures.kept
    inside = np.flatnonzero(sections)
    owners = sections.ravel()[inside]
    pure = smooth_gt.ravel()[inside] < air_level + parameters.gas_margin_hu
    air = np.bincount(owners[pure], minlength=count + 1)
    # The kind is what the NDCT shows: where only the uLDCT is dark (tissue moved by
    # breathing) the NDCT tells nothing, so the share counts the NDCT's dark voxels alone.
    seen = np.bincount(owners[dark_gt.ravel()[inside]], minlength=count + 1)
    low, high = parameters.clip_hu
    lq_sum = np.bincount(owners, weights=np.clip(np.asarray(lq).ravel()[inside], low, high), minlength=count + 1)
    is_cut = measures.cut & gas_told
    is_gas = (air >= parameters.gas_section_share * np.maximum(seen, 1)) & (seen > 0) & gas_told

    kind = np.full(count + 1, PARENCHYMA, dtype=np.int8)
    kind[is_gas] = GAS
    kind[(seen == 0) & gas_told] = MOVED
    kind[measures.pad] = THIN
    kind[is_cut] = CUT
    keep = present & ~(is_cut & is_gas) & (~measures.cut | gas_told)
    keep[0] = False
    drop = present & ~keep
    drop[0] = False
    relabelled = np.where(drop[owners], 0, owners + offset).astype(SECTION_DTYPE)
    np.put(sections, inside, relabelled)  # in place, whatever the memory layout
    area = sizes * sx * sy
    return {
        "id": np.flatnonzero(keep) + offset,
        "z": measures.z[keep] + first_slice,
        "x": measures.x[keep],
        "voxels": sizes[keep],
        "pure_air": air[keep],
        "kind": kind[keep],
        "lq_sum": lq_sum[keep],
        "wide": (area > parameters.max_airway_section_mm2)[keep],
        "large": (area >= parameters.min_cut_lung_mm2)[keep],
    }


def classify_sections(
    tables: list[dict[str, np.ndarray]],
    links: list[np.ndarray],
    patient_span: np.ndarray,
    gas_told: bool,
    spacing,
    parameters: MaskParameters,
) -> Classification:
    """What each section is, from the chunks' tables and the links between sections
    (`section_links`, label pairs), as a table from label to outcome.

    `patient_span` holds, per slice, the patient's left-right middle and width in pixels.
    Without `gas_told` (pure air not told from parenchyma) every enclosed section is lung.
    """
    table = {name: np.concatenate([t[name] for t in tables]) for name in tables[0]} if tables else {}
    if not table or table["id"].size == 0:
        return Classification(by_label=np.zeros(1, dtype=np.uint8))
    sx, sy, sz = spacing
    voxel_ml = sx * sy * sz / 1000.0
    count = table["id"].size
    node = np.zeros(int(table["id"].max()) + 1, dtype=np.int64)  # section label -> table row
    node[table["id"]] = np.arange(count)
    kind = table["kind"]
    is_parenchyma, is_cut, is_gas = kind == PARENCHYMA, kind == CUT, kind == GAS
    tissue = is_parenchyma | is_cut

    pairs = np.concatenate(links, axis=1) if links else np.zeros((2, 0), dtype=np.int64)
    upper, lower = node[pairs[0]], node[pairs[1]]
    same = (tissue[upper] & tissue[lower]) | (is_gas[upper] & is_gas[lower])
    group = _groups(upper[same], lower[same], count)
    groups = int(group.max()) + 1
    voxels = table["voxels"].astype(np.float64)

    enclosed = np.bincount(group, weights=voxels * is_parenchyma, minlength=groups)
    volume = np.bincount(group, weights=voxels * tissue, minlength=groups)
    pure = np.bincount(group, weights=table["pure_air"] * tissue, minlength=groups)
    largest = int(np.argmax(enclosed))
    reference = float(enclosed[largest])
    # A piece of lung reads like the lung it was cut from: its share of pure air is at
    # most twice the largest group's (plus half a percent), and never above the limit.
    piece_air_share = min(
        parameters.max_parenchyma_air_share, 2.0 * pure[largest] / max(volume[largest], 1.0) + PIECE_AIR_SLACK
    )
    lung_group = (enclosed > 0) & (
        (enclosed >= parameters.lung_share * reference)
        | ((enclosed * voxel_ml >= parameters.min_lung_piece_ml) & (pure < piece_air_share * volume))
    )
    if not gas_told:
        lung_group = enclosed > 0
    is_lung = tissue & lung_group[group]

    # Airways: narrow sections of either kind that are not lung yet (the trachea's air reads
    # above the pure-air level where the shoulders darken the image), joined across slices
    # into groups that touch the lung and lie in the middle of the patient.
    narrow = ~table["wide"] & (is_gas | (is_parenchyma & ~is_lung))
    joined = narrow[upper] & narrow[lower]
    tube = _groups(upper[joined], lower[joined], count)
    tubes = int(tube.max()) + 1
    touches = np.zeros(tubes, dtype=bool)
    for tube_end, other_end in ((upper, lower), (lower, upper)):
        meets = narrow[tube_end] & is_lung[other_end]
        touches[tube[tube_end[meets]]] = True
    middle, width = patient_span[table["z"], 0], patient_span[table["z"], 1]
    offset = np.bincount(tube, weights=voxels * narrow * (table["x"] - middle) / np.maximum(width, 1), minlength=tubes)
    tube_voxels = np.bincount(tube, weights=voxels * narrow, minlength=tubes)
    centred = np.abs(offset) <= parameters.trachea_offcentre_share * np.maximum(tube_voxels, 1)
    tube_air = np.bincount(tube, weights=table["pure_air"] * narrow, minlength=tubes)
    airway_tube = touches & centred & (tube_air >= parameters.gas_section_share * tube_voxels)
    airway = narrow & airway_tube[tube]

    # Lungs as dark as air (emphysema): gas groups far larger than any parenchyma group.
    gas_volume = np.bincount(group, weights=voxels * is_gas, minlength=groups)
    dark_lung_group = (gas_volume >= DARK_LUNG_RATIO * reference) & (
        gas_volume * voxel_ml >= parameters.min_dark_lung_ml
    )
    is_lung |= airway | (is_gas & dark_lung_group[group])

    outcome = np.full(count, NOTHING, dtype=np.uint8)
    outcome[(is_parenchyma | is_gas) & ~is_lung] = OTHER_GAS
    outcome[is_lung] = LUNG
    _classify_moved(outcome, kind, table["lq_sum"], voxels, upper, lower, count)
    outcome[is_cut & is_lung] = CUT_LUNG
    outcome[kind == THIN] = THIN_GAS
    missed = is_cut & ~is_lung & table["large"]
    by_label = np.zeros(node.size, dtype=np.uint8)
    by_label[table["id"]] = outcome
    info = {
        "lung_groups": int(np.count_nonzero(lung_group)),
        "airways_joined": bool(np.any(airway)),
        "dark_lung": bool(np.any(dark_lung_group)),
        "cut_lung_slices": _slice_ranges(np.unique(table["z"][is_cut & is_lung])),
    }
    return Classification(by_label=by_label, warnings=_cut_warnings(np.unique(table["z"][missed])), info=info)


def _classify_moved(
    outcome: np.ndarray,
    kind: np.ndarray,
    lq_sum: np.ndarray,
    voxels: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    count: int,
) -> None:
    """Sections dark in the uLDCT alone (the NDCT shows tissue there: breathing moved
    something dark into the place), grouped across slices among themselves, are gas or lung
    by the uLDCT's own reading, against references the NDCT vouches for.

    Gas reads lower than parenchyma in the uLDCT too: a group's mean (clipped as the masks
    clip) is compared with the uLDCT's mean over the sections the NDCT showed to be other
    gas (pure air) and over those it showed to be lung parenchyma, and the group takes the
    nearer one; the noise, however large, averages out over the thousands of voxels of a
    stomach's top. Without both references, the group takes the outcome of what it touches
    in the adjacent slices: other gas when it touches any, lung when it touches lung alone,
    other gas when it touches neither, since the NDCT never shows lung there.
    """
    moved = kind == MOVED
    if not moved.any():
        return
    joined = moved[upper] & moved[lower]
    group = _groups(upper[joined], lower[joined], count)
    groups = int(group.max()) + 1
    gas_reference = (outcome == OTHER_GAS) & (kind == GAS)
    lung_reference = (outcome == LUNG) & (kind == PARENCHYMA)
    if gas_reference.any() and lung_reference.any():
        gas_level = lq_sum[gas_reference].sum() / voxels[gas_reference].sum()
        lung_level = lq_sum[lung_reference].sum() / voxels[lung_reference].sum()
        level = np.bincount(group, weights=lq_sum * moved, minlength=groups) / np.maximum(
            np.bincount(group, weights=voxels * moved, minlength=groups), 1
        )
        if lung_level > gas_level:
            lung = level > 0.5 * (gas_level + lung_level)
            outcome[moved] = np.where(lung[group[moved]], LUNG, OTHER_GAS)
            return
    touches_gas = np.zeros(groups, dtype=bool)
    touches_lung = np.zeros(groups, dtype=bool)
    for end, other in ((upper, lower), (lower, upper)):
        meets = moved[end] & ~moved[other]
        touches_gas[group[end[meets & (outcome[other] == OTHER_GAS)]]] = True
        touches_lung[group[end[meets & (outcome[other] == LUNG)]]] = True
    lung = touches_lung & ~touches_gas
    outcome[moved] = np.where(lung[group[moved]], LUNG, OTHER_GAS)


def regions_of(sections: np.ndarray, classification: Classification, lung: np.ndarray, other_gas: np.ndarray):
    """The lung (airways and cut lung included) and other gas of a stack of slices whose
    section labels are `sections`, written into the boolean arrays `lung` and `other_gas`;
    returns the thin gas and cut lung masks."""
    answer = classification.by_label[sections]
    cut_lung = answer == CUT_LUNG
    np.logical_or(answer == LUNG, cut_lung, out=lung)
    np.equal(answer, OTHER_GAS, out=other_gas)
    return answer == THIN_GAS, cut_lung


def section_links(sections: np.ndarray) -> np.ndarray:
    """(2, n) label pairs of the sections that share a pixel in adjacent slices."""
    if sections.shape[0] < 2:
        return np.zeros((2, 0), dtype=np.int64)
    above, below = sections[:-1], sections[1:]
    shared = (above > 0) & (below > 0)
    upper, lower = above[shared], below[shared]
    # Neighbouring pixels of a row mostly repeat the previous pair: drop the repeats first.
    fresh = np.ones(upper.size, dtype=bool)
    fresh[1:] = (upper[1:] != upper[:-1]) | (lower[1:] != lower[:-1])
    upper, lower = upper[fresh].astype(np.int64), lower[fresh].astype(np.int64)
    base = int(max(upper.max(initial=0), lower.max(initial=0))) + 1
    pairs = np.unique(upper * base + lower)
    return np.stack([pairs // base, pairs % base])


def _groups(upper: np.ndarray, lower: np.ndarray, count: int) -> np.ndarray:
    """Connected component of each of `count` nodes joined by the given links."""
    graph = coo_matrix((np.ones(upper.size, dtype=np.int8), (upper, lower)), shape=(count, count))
    _, group = connected_components(graph, directed=False)
    return group


def _cut_warnings(slices: np.ndarray) -> list[str]:
    if slices.size == 0:
        return []
    return [
        f"lung cut by the field of view could not be told from outside air in slices "
        f"{_slice_ranges(slices)} (z index): it is left background; reconstruct the full chest"
    ]


def _slice_ranges(slices: np.ndarray) -> str:
    """'3-7, 12' for slices [3, 4, 5, 6, 7, 12]."""
    if slices.size == 0:
        return ""
    breaks = np.flatnonzero(np.diff(slices) > 1)
    starts = np.concatenate([[slices[0]], slices[breaks + 1]])
    stops = np.concatenate([slices[breaks], [slices[-1]]])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in zip(starts.tolist(), stops.tolist()))
