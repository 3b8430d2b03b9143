"""Branching trees of tubes: pulmonary arteries and veins, the bronchi beside the arteries,
the peripheral vessels, and the great vessels, trachea and main bronchi of the mediastinum.

Trees grow generation by generation from segmental roots at the hila: each branch splits
into a larger and a smaller child (radii following Murray's law, r^3 = r1^3 + r2^3), turned
away from the parent and bent outwards from the hilum, so the tree fans out and fills the
lung. Branches that would leave the lung stop there. The bronchi follow the artery tree (the
bronchovascular bundle); the veins run on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ipv2.phantom.grid import z_from_u
from ipv2.phantom.tubes import Segments

InsideTest = Callable[[np.ndarray], np.ndarray]  # (N, 3) points -> depth inside the lung, mm


def _point(x, y, u):
    return (float(x), float(y), float(z_from_u(u)))


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@dataclass(frozen=True)
class TreeStyle:
    length_per_radius: tuple[float, float]
    min_length_mm: float
    max_length_mm: float
    taper: float  # radius at the end of a segment relative to its start
    max_generations: int


VESSEL_STYLE = TreeStyle(
    length_per_radius=(3.0, 5.5), min_length_mm=2.0, max_length_mm=16.0, taper=0.92, max_generations=16
)
BRONCHUS_TO_ARTERY = 0.9  # lumen radius of a bronchus over that of its artery (about 1 in health)


def _perpendicular(direction, rng):
    """A random unit vector perpendicular to each direction."""
    random = rng.standard_normal(direction.shape)
    random -= (random * direction).sum(-1, keepdims=True) * direction
    return _unit(random + 1e-9)


@dataclass
class Tree:
    """The segments of a tree and, for each, the index of its parent segment (-1 at a root)."""

    segments: Segments
    parent: np.ndarray


def grow_tree(
    rng: np.random.Generator,
    roots: Sequence[tuple[Sequence[float], Sequence[float], float]],
    depth_inside: InsideTest,
    min_radius: float,
    style: TreeStyle,
) -> Tree:
    """`roots`: (start point, direction, radius). The first segment of a root may start
    outside the lung (in the hilum); later ones must end inside it. Parents come before
    their children in the result."""
    hilum = np.array([r[0] for r in roots], dtype=float)
    start = hilum.copy()
    direction = _unit([r[1] for r in roots])
    radius = np.array([r[2] for r in roots], dtype=float)
    origin = hilum.copy()
    parent = np.full(len(roots), -1)
    pieces: list[Segments] = []
    parents: list[np.ndarray] = []
    grown = 0
    for generation in range(style.max_generations):
        if len(start) == 0:
            break
        length = np.clip(
            radius * rng.uniform(*style.length_per_radius, len(radius)), style.min_length_mm, style.max_length_mm
        )
        end = start + direction * length[:, None]
        depth = depth_inside(end)
        if generation > 0:
            # Shorten a branch that would leave the lung; drop it when even half is outside.
            half = start + direction * (0.5 * length[:, None])
            outside = depth < 0.5 * radius
            end = np.where(outside[:, None], half, end)
            keep = ~outside | (depth_inside(half) >= 0.5 * radius)
            start, end, direction, radius, origin = start[keep], end[keep], direction[keep], radius[keep], origin[keep]
            parent = parent[keep]
            depth = np.where(outside[keep], 0.0, depth[keep])
        pieces.append(Segments(start, end, radius, radius * style.taper))
        parents.append(parent)
        index = grown + np.arange(len(start))
        grown += len(start)
        parent_end_radius = radius * style.taper
        big = rng.uniform(0.74, 0.9, len(radius))
        small = np.cbrt(np.clip(1.0 - big**3, 0.05, None))
        grows = (parent_end_radius * small >= min_radius) & ((depth >= 0.0) | (generation == 0))
        if not grows.any():
            break
        d, r, o, e, i = direction[grows], parent_end_radius[grows], origin[grows], end[grows], index[grows]
        big, small = big[grows], small[grows]
        side = _perpendicular(d, rng)
        outward = _unit(e - o + 1e-6)
        turn_big = np.tan(np.radians(rng.uniform(12, 28, len(r))))[:, None]
        turn_small = np.tan(np.radians(rng.uniform(35, 60, len(r))))[:, None]
        dir_big = _unit(d + turn_big * side + 0.35 * outward)
        dir_small = _unit(d - turn_small * side + 0.35 * outward)
        start = np.concatenate([e, e])
        direction = np.concatenate([dir_big, dir_small])
        radius = np.concatenate([r * big, r * small])
        origin = np.concatenate([o, o])
        parent = np.concatenate([i, i])
        alive = radius >= min_radius
        start, direction, radius = start[alive], direction[alive], radius[alive]
        origin, parent = origin[alive], parent[alive]
    if not pieces:
        return Tree(Segments.empty(), np.zeros(0, dtype=int))
    result = pieces[0]
    for piece in pieces[1:]:
        result = result.concat(piece)
    return Tree(result, np.concatenate(parents))


# Hila: where the pulmonary arteries and veins enter each lung (x, y, u); negative x is right.
RIGHT_ARTERY_HILUM = (-45.0, -2.0, 0.35)
LEFT_ARTERY_HILUM = (48.0, 8.0, 0.33)
RIGHT_VEIN_HILUM = (-42.0, 10.0, 0.53)
LEFT_VEIN_HILUM = (44.0, 14.0, 0.52)
CARINA = (0.0, -2.0, 0.22)
RIGHT_BRONCHUS_END = (-42.0, 2.0, 0.33)
LEFT_BRONCHUS_END = (42.0, 8.0, 0.39)

# Segmental directions (lateral, y, z) with lateral positive towards the side of the lung.
ARTERY_SEGMENTS = (
    (0.4, -0.3, 1.0),
    (0.5, 0.5, 0.9),
    (0.8, -0.6, -0.3),
    (0.9, 0.1, 0.2),
    (0.6, -0.8, 0.2),
    (0.5, 0.6, -0.8),
    (0.7, 0.0, -0.8),
    (0.3, 0.9, -0.4),
    (0.6, -0.5, -0.8),
    (0.9, 0.4, -0.5),
)
VEIN_SEGMENTS = (
    (0.6, -0.4, 0.6),
    (0.5, 0.6, 0.6),
    (0.8, -0.3, -0.4),
    (0.9, 0.3, 0.0),
    (0.5, 0.6, -0.7),
    (0.7, -0.4, -0.7),
    (0.4, 0.9, -0.3),
)


def _lobar_roots(hilum, lobes, radius, side_sign):
    x, y, u = hilum
    start = _point(x, y, u)
    return [(start, (side_sign * lx, ly, lz), radius) for lx, ly, lz in lobes]


def pulmonary_vessels(rng, depth_inside: InsideTest, min_radius: float) -> tuple[Tree, Tree]:
    """The artery and the vein trees."""
    arteries = grow_tree(
        rng,
        _lobar_roots(RIGHT_ARTERY_HILUM, ARTERY_SEGMENTS, 4.4, -1)
        + _lobar_roots(LEFT_ARTERY_HILUM, ARTERY_SEGMENTS, 4.2, 1),
        depth_inside,
        min_radius,
        VESSEL_STYLE,
    )
    veins = grow_tree(
        rng,
        _lobar_roots(RIGHT_VEIN_HILUM, VEIN_SEGMENTS, 4.3, -1) + _lobar_roots(LEFT_VEIN_HILUM, VEIN_SEGMENTS, 4.1, 1),
        depth_inside,
        min_radius,
        VESSEL_STYLE,
    )
    return arteries, veins


TWIGS_PER_ML = 6.0  # peripheral vessels in each millilitre of lung, below what the trees reach
TWIG_SEGMENTS = 3
TWIG_CLEARANCE_MM = 3.0  # the last few millimetres under the pleura are nearly free of vessels


def peripheral_twigs(rng, depth_inside: InsideTest, min_radius: float, low_mm, high_mm) -> Segments:
    """The smallest vessels, spread evenly through the lung: short tapering chains, 0.6 to
    1 mm in calibre and 6-10 mm long, pointing away from the hilum of their lung. In a slice
    they are the dots and short lines that fill the periphery; the trees above, thinned by
    the branches they lose at the lung's edge, do not reach there densely enough.
    `low_mm`/`high_mm`: the box (x, y, z) to fill."""
    low, high = np.asarray(low_mm, float), np.asarray(high_mm, float)
    candidates = int(TWIGS_PER_ML * np.prod(high - low) / 1000.0)
    points = low + rng.uniform(size=(candidates, 3)) * (high - low)
    radius = rng.uniform(0.3, 0.5, candidates)
    directions = rng.standard_normal((TWIG_SEGMENTS, candidates, 3))
    lengths = rng.uniform(2.0, 3.5, (TWIG_SEGMENTS, candidates))
    inside = depth_inside(points) > TWIG_CLEARANCE_MM
    hila = np.where(
        (points[:, 0] > 0)[:, None], np.array(_point(*LEFT_ARTERY_HILUM)), np.array(_point(*RIGHT_ARTERY_HILUM))
    )
    heading = _unit(points - hila)
    alive = inside & (radius >= min_radius)
    pieces: list[Segments] = []
    start = points
    for k in range(TWIG_SEGMENTS):
        heading = _unit(heading + 0.35 * directions[k])
        end = start + heading * lengths[k][:, None]
        r_end = radius * 0.88
        alive = alive & (depth_inside(end) > 1.0) & (radius >= min_radius)
        pieces.append(Segments(start[alive], end[alive], radius[alive], r_end[alive]))
        start, radius = end, r_end
    result = pieces[0]
    for piece in pieces[1:]:
        result = result.concat(piece)
    return result


def bronchi_beside(arteries: Tree, depth_inside: InsideTest, min_radius: float) -> Segments:
    """Lumen of the bronchi, each running beside its pulmonary artery (the bronchovascular
    bundle), from the main bronchi down to `min_radius`; walls are added by the renderer.

    A bronchus is its artery's segment shifted sideways by the two radii and the wall, along
    the part of a fixed direction perpendicular to the artery; a short connector joins it to
    its parent bronchus (or the main bronchus at a root) where the shift changes at a branch.
    Bronchi whose wall would leave the lung are dropped with all that hangs on them.
    """
    vessels = arteries.segments
    count = len(vessels)
    main_ends = {-1: np.array(_point(*RIGHT_BRONCHUS_END)), 1: np.array(_point(*LEFT_BRONCHUS_END))}
    reference = _unit(np.array([0.3, 0.8, 0.5]))
    direction = _unit(vessels.end - vessels.start + 1e-9)
    across = reference - (direction @ reference)[:, None] * direction
    weak = np.linalg.norm(across, axis=1) < 0.2
    across[weak] = np.cross(direction[weak], [0.0, 0.0, 1.0])
    across = _unit(across + 1e-9)
    r_start, r_end = BRONCHUS_TO_ARTERY * vessels.r_start, BRONCHUS_TO_ARTERY * vessels.r_end
    shift = (vessels.r_start + r_start + airway_wall_mm(r_start) + 0.3)[:, None] * across
    start, end = vessels.start + shift, vessels.end + shift
    wall_depth = depth_inside(end) - r_end - airway_wall_mm(r_end)
    kept = np.zeros(count, dtype=bool)
    pieces: dict[str, list[Any]] = {"start": [], "end": [], "r_start": [], "r_end": []}

    def add(a, b, ra, rb):
        pieces["start"].append(a), pieces["end"].append(b), pieces["r_start"].append(ra), pieces["r_end"].append(rb)

    for i in range(count):  # parents come first
        p = arteries.parent[i]
        if r_end[i] < min_radius or (p >= 0 and not kept[p]) or (p >= 0 and wall_depth[i] < 0):
            continue
        kept[i] = True
        joint = main_ends[1 if vessels.start[i, 0] > 0 else -1] if p < 0 else end[p]
        add(joint, start[i], r_start[i], r_start[i])
        add(start[i], end[i], r_start[i], r_end[i])
    if not pieces["start"]:
        return Segments.empty()
    return Segments(
        np.array(pieces["start"]), np.array(pieces["end"]), np.array(pieces["r_start"]), np.array(pieces["r_end"])
    )


def central_airways() -> Segments:
    """Lumen of the trachea and the two main bronchi."""
    top = _point(0.0, -5.0, -0.3)
    carina = _point(*CARINA)
    trachea = Segments.from_polyline([top, carina], 8.5)
    right = Segments.from_polyline([carina, _point(*RIGHT_BRONCHUS_END)], [6.5, 5.5])
    left = Segments.from_polyline([carina, _point(*LEFT_BRONCHUS_END)], [6.0, 5.0])
    return trachea.concat(right).concat(left)


def airway_wall_mm(radius):
    """Bronchial walls are about a sixth of the lumen radius plus a fixed part."""
    return 0.17 * np.asarray(radius) + 0.5


def great_vessels() -> Segments:
    """Aorta, pulmonary trunk and arteries, pulmonary veins, superior and inferior vena cava."""
    tubes = [
        Segments.from_polyline(
            [
                _point(-4, -22, 0.52),
                _point(-6, -28, 0.12),
                _point(8, -12, 0.02),
                _point(26, 20, 0.1),
                _point(26, 24, 0.25),
                _point(24, 24, 1.3),
            ],
            [15, 14, 13, 12.5, 12, 11.5],
        ),
        Segments.from_polyline([_point(14, -32, 0.56), _point(12, -20, 0.30)], 13.5),
        Segments.from_polyline([_point(12, -20, 0.30), _point(*RIGHT_ARTERY_HILUM)], [10, 8]),
        Segments.from_polyline([_point(12, -20, 0.30), _point(*LEFT_ARTERY_HILUM)], [10, 8]),
        Segments.from_polyline([_point(10, 4, 0.62), _point(*RIGHT_VEIN_HILUM)], [7.5, 6.5]),
        Segments.from_polyline([_point(10, 4, 0.62), _point(*LEFT_VEIN_HILUM)], [7.5, 6.5]),
        Segments.from_polyline([_point(-30, -18, -0.3), _point(-28, -14, 0.5)], 10.0),
        Segments.from_polyline([_point(-18, 8, 0.8), _point(-20, 18, 1.3)], 12.0),
    ]
    result = tubes[0]
    for tube in tubes[1:]:
        result = result.concat(tube)
    return result


def esophagus() -> Segments:
    return Segments.from_polyline([_point(6, 14, -0.3), _point(10, 16, 1.3)], 7.0)
