"""Trachea and main bronchi inside the lung mask, by a 3D heuristic.

Trachea: near one end of the lung's z-range, the lung mask of each slice holds a small
component that is pure air on the smoothed NDCT (parenchyma, 80 HU or more above air, is
not) and lies near the middle of the patient from left to right: the trachea, alone above
the lungs or beside the apices. Within trachea_search_mm of each end, the longest unbroken
run of such slices counts (it need not reach the end slice: the larynx above the trachea is
wider than a trachea), and the end with the longer run is taken. Air levels are the scan's
measured air level plus margins, since air reads from -1000 to about -960 HU on real
scanners.

Growth: from those components, the airway tree is the 3D component (6-connectivity) of the
lung voxels that are pure air. Growth stops by itself where smoothing blurs small bronchi
above the air level. A tree out of proportion to the lung means a leak into the parenchyma
(emphysema, noise): growth is retried at stricter air levels and otherwise given up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
from scipy import ndimage as ndi

from ipv2.masks.parameters import MaskParameters
from ipv2.masks.slicewise import bounding_box, component_sizes, label_slices, slice_components, slice_of_labels
from ipv2.parallel import map_chunks

AIRWAY_LEVELS_DTYPE = np.uint8
# A lung component at least this much covered by grown airways is airway as a whole.
WHOLE_COMPONENT_SHARE = 0.5
# A trachea cross-section is pure air over at least this share of its area; its rim is
# blurred by smoothing and partial volume, parenchyma of normal lung has next to none.
TRACHEA_AIR_SHARE = 0.25
# The trachea search walks inwards from each end in blocks of this length and stops once a
# long enough run has ended, so that little beyond the run itself is examined.
TRACHEA_BLOCK_MM = 10.0


def find_airways(
    lung: np.ndarray,
    airway_levels: np.ndarray,
    spacing,
    parameters: MaskParameters,
    levels_hu: Sequence[float],
    background: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """Boolean airway mask (a subset of `lung`) and a record of how it was found.

    `airway_levels` counts, per voxel, how many of the air levels `levels_hu` (the scan's
    air level plus each of airway_margins_hu, strictest last) the smoothed NDCT is below.
    `background` locates the patient for the left-right centring test (without it, the
    image centre is used).
    """
    airways = np.zeros(lung.shape, dtype=bool)
    box = bounding_box(lung)
    if box is None:
        return airways, {"found": False, "reason": "no lung"}
    # The search works in the lung's box; only the patient's left-right extent needs the
    # whole width, and it is taken first.
    rows, columns = box[0], box[2]
    left, right = _patient_columns(background, lung.shape)
    lung, airway_levels = lung[box], airway_levels[box]

    seeds, trachea = _trachea(
        lung, airway_levels, left[rows] - columns.start, right[rows] - columns.start, spacing, parameters
    )
    trachea_mm = (trachea.stop - trachea.start) * spacing[2]
    if trachea_mm < parameters.min_trachea_mm:
        return airways, {
            "found": False,
            "reason": f"no trachea: the centred air tube at either end of the lung "
            f"runs {trachea_mm:.1f} mm (< {parameters.min_trachea_mm:g} mm)",
        }

    trachea_slices = [int(trachea.start + rows.start), int(trachea.stop + rows.start)]
    lung_voxels = int(np.count_nonzero(lung))
    leaked = False
    for level, level_hu in enumerate(levels_hu, start=1):
        grown = _grow_from(lung & (airway_levels >= level), seeds)
        if grown is None:
            break  # stricter levels hold even fewer voxels
        if np.count_nonzero(grown) <= parameters.max_airway_fraction * lung_voxels:
            airways[box] = _with_whole_airway_components(grown, lung)
            return airways, {"found": True, "level_hu": round(float(level_hu), 1), "trachea_slices": trachea_slices}
        leaked = True
    reason = (
        "airway growth leaked into the lung at every air level"
        if leaked
        else f"no air below {levels_hu[0]:.0f} HU in the trachea of the NDCT"
    )
    return airways, {"found": False, "reason": reason, "trachea_slices": trachea_slices}


def _patient_columns(background: np.ndarray | None, shape) -> tuple[np.ndarray, np.ndarray]:
    """Per slice, the first and last column holding anything but background (the image's
    edges where there is none, or without `background`)."""
    depth, _, width = shape
    if background is None:
        return np.zeros(depth, dtype=np.intp), np.full(depth, width - 1, dtype=np.intp)
    has_patient = ~np.all(background, axis=1)  # (z, x)
    present = has_patient.any(axis=1)
    left = np.where(present, np.argmax(has_patient, axis=1), 0)
    right = np.where(present, width - 1 - np.argmax(has_patient[:, ::-1], axis=1), width - 1)
    return left, right


def _trachea(lung, airway_levels, left, right, spacing, parameters: MaskParameters):
    """Seed voxels (a mask of the lung's shape) and slice range of the longer trachea run at
    either end of a stack whose first and last slices hold lung.

    `left` and `right` give the patient's first and last column in each slice. The two ends
    are searched at once, on two threads: on a scan with the trachea at one end the other
    end's search runs its whole reach for nothing, and the work is in NumPy and SciPy calls
    that release the interpreter."""
    first, last = 0, lung.shape[0] - 1
    reach = min(max(1, math.ceil(parameters.trachea_search_mm / spacing[2])), last - first + 1)
    block = max(1, math.ceil(TRACHEA_BLOCK_MM / spacing[2]))
    enough = max(1, math.ceil(parameters.min_trachea_mm / spacing[2]))

    def search(from_first: bool):
        window = slice(first, first + reach) if from_first else slice(last - reach + 1, last + 1)
        tube = np.zeros((reach,) + lung.shape[1:], dtype=bool)
        done = 0  # slices examined, walking inwards from this end
        while done < reach:
            count = min(block, reach - done)
            local = slice(done, done + count) if from_first else slice(reach - done - count, reach - done)
            zs = slice(window.start + local.start, window.start + local.stop)
            tube[local] = _tube_components(lung[zs], airway_levels[zs], left[zs], right[zs], spacing, parameters)
            done += count
            seen = tube[:done] if from_first else tube[reach - done :]
            flags = np.any(seen, axis=(1, 2))
            if not from_first:
                flags = flags[::-1]
            # A run long enough that has ended needs no further search inwards.
            if _longest_closed_run(flags) >= enough:
                break
        run = _longest_run(np.any(tube, axis=(1, 2)))
        return slice(window.start + run.start, window.start + run.stop), tube[run]

    ends = map_chunks(search, (True, False), workers=2)
    best_run, best_tube = slice(first, first), None
    for run, tube in ends:  # the first end wins a tie
        if run.stop - run.start > best_run.stop - best_run.start:
            best_run, best_tube = run, tube
    seeds = np.zeros(lung.shape, dtype=bool)
    if best_tube is not None:
        seeds[best_run.start : best_run.start + best_tube.shape[0]] = best_tube
    return seeds, best_run


def _longest_closed_run(flags: np.ndarray) -> int:
    """Length of the longest run of True values followed by a False one."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, stops = edges[0::2], edges[1::2]
    closed = stops < flags.size
    return int((stops - starts)[closed].max()) if closed.any() else 0


def _longest_run(flags: np.ndarray) -> slice:
    """The longest run of consecutive True values (the first of equal ones)."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    if edges.size == 0:
        return slice(0, 0)
    starts, stops = edges[0::2], edges[1::2]
    longest = int(np.argmax(stops - starts))
    return slice(int(starts[longest]), int(stops[longest]))


def _tube_components(lung, airway_levels, left, right, spacing, parameters: MaskParameters) -> np.ndarray:
    """In-plane lung components that are small, mostly pure air and centred left to right
    between the patient's first and last columns `left` and `right` of each slice.

    Only the box around the lung of the slices that hold pure air in the lung is labelled:
    a component with no pure air is no tube, and the labelling is most of the cost."""
    sx, sy, _ = spacing
    tubes = np.zeros(lung.shape, dtype=bool)
    box = bounding_box(lung & (airway_levels >= 1))
    if box is None:
        return tubes
    rows = box[0]
    box = (rows,) + bounding_box(lung[rows])[1:]
    labels, count = label_slices(lung[box], connectivity=1)
    sizes = component_sizes(labels, count)
    air = np.bincount(labels[airway_levels[box] >= 1], minlength=count + 1)
    voxels = np.flatnonzero(labels)
    voxel_labels = labels.ravel()[voxels]
    columns = voxels % labels.shape[2] + box[2].start
    centre_x = np.bincount(voxel_labels, weights=columns, minlength=count + 1) / np.maximum(sizes, 1)
    slice_of_label = slice_of_labels(labels, count) + rows.start
    middle = (left + right)[slice_of_label] / 2.0
    tolerance = parameters.trachea_offcentre_share * (right - left)[slice_of_label]

    is_tube = (
        (sizes * sx * sy <= parameters.max_trachea_mm2)
        & (air >= TRACHEA_AIR_SHARE * sizes)
        & (np.abs(centre_x - middle) <= tolerance)
    )
    is_tube[0] = False
    tubes[box] = is_tube[labels]
    return tubes


def _with_whole_airway_components(grown: np.ndarray, lung: np.ndarray) -> np.ndarray:
    """Grown airways plus every in-plane lung component that is mostly airway.

    Smoothing moves the pure-air level about 1.6 sigma inside the lumen. Where the trachea
    or a bronchus runs through the mediastinum it is a lung component of its own, whose
    -500 HU edge is the true wall, so such components are taken whole; inside the
    parenchyma the grown lumen is kept as it is. Slice by slice, with OpenCV's component
    statistics for the areas.
    """
    for z in np.flatnonzero(grown.any(axis=(1, 2))):
        source = np.ascontiguousarray(lung[z]).view(np.uint8)
        count, labels, stats = slice_components(source, connectivity=1)
        airway_counts = np.bincount(labels[grown[z]], minlength=count)
        mostly_airway = airway_counts >= WHOLE_COMPONENT_SHARE * np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
        mostly_airway[0] = False
        grown[z] |= mostly_airway[labels]  # grown is this module's own array
    return grown


def _grow_from(candidate: np.ndarray, seeds: np.ndarray):
    """The 3D component of candidate holding the most seed voxels, or None."""
    box = bounding_box(candidate)
    if box is None:
        return None
    labels, count = ndi.label(candidate[box], structure=ndi.generate_binary_structure(3, 1))
    seeded = labels[seeds[box]]
    seed_counts = np.bincount(seeded.astype(np.intp), minlength=count + 1)
    seed_counts[0] = 0
    if count == 0 or seed_counts.max() == 0:
        return None
    grown = np.zeros(candidate.shape, dtype=bool)
    grown[box] = labels == int(np.argmax(seed_counts))
    return grown
