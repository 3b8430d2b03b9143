"""Branching trees of tubes: pulmonary arteries and veins, the bronchial tree, and the great
vessels, trachea and main bronchi of the mediastinum.

Trees grow generation by generation from the hila: each branch splits into a larger and a
smaller child (radii following Murray's law, r^3 = r1^3 + r2^3), turned away from the
parent and bent outwards from the hilum, so the tree fans out and fills the lung. Branches
that would leave the lung stop there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Sequence, Tuple

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
    length_per_radius: Tuple[float, float]
    min_length_mm: float
    max_length_mm: float
    taper: float  # radius at the end of a segment relative to its start
    max_generations: int


VESSEL_STYLE = TreeStyle(length_per_radius=(3.0, 5.5), min_length_mm=2.5, max_length_mm=20.0,
                         taper=0.92, max_generations=11)
AIRWAY_STYLE = TreeStyle(length_per_radius=(3.5, 6.0), min_length_mm=4.0, max_length_mm=25.0,
                         taper=0.94, max_generations=6)


def _perpendicular(direction, rng):
    """A random unit vector perpendicular to each direction."""
    random = rng.standard_normal(direction.shape)
    random -= (random * direction).sum(-1, keepdims=True) * direction
    return _unit(random + 1e-9)


def grow_tree(rng: np.random.Generator, roots: Sequence[Tuple[Sequence[float], Sequence[float], float]],
              depth_inside: InsideTest, min_radius: float, style: TreeStyle) -> Segments:
    """`roots`: (start point, direction, radius). The first segment of a root may start
    outside the lung (in the hilum); later ones must end inside it."""
    hilum = np.array([r[0] for r in roots], dtype=float)
    start = hilum.copy()
    direction = _unit([r[1] for r in roots])
    radius = np.array([r[2] for r in roots], dtype=float)
    origin = hilum.copy()
    pieces: List[Segments] = []
    for generation in range(style.max_generations):
        if len(start) == 0:
            break
        length = np.clip(radius * rng.uniform(*style.length_per_radius, len(radius)),
                         style.min_length_mm, style.max_length_mm)
        end = start + direction * length[:, None]
        depth = depth_inside(end)
        if generation > 0:
            # Shorten a branch that would leave the lung; drop it when even half is outside.
            half = start + direction * (0.5 * length[:, None])
            outside = depth < 0.5 * radius
            end = np.where(outside[:, None], half, end)
            keep = ~outside | (depth_inside(half) >= 0.5 * radius)
            start, end, direction, radius, origin = start[keep], end[keep], direction[keep], radius[keep], origin[keep]
            depth = np.where(outside[keep], 0.0, depth[keep])
        pieces.append(Segments(start, end, radius, radius * style.taper))
        parent_end_radius = radius * style.taper
        big = rng.uniform(0.74, 0.9, len(radius))
        small = np.cbrt(np.clip(1.0 - big ** 3, 0.05, None))
        grows = (parent_end_radius * small >= min_radius) & ((depth >= 0.0) | (generation == 0))
        if not grows.any():
            break
        d, r, o, e = direction[grows], parent_end_radius[grows], origin[grows], end[grows]
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
        alive = radius >= min_radius
        start, direction, radius, origin = start[alive], direction[alive], radius[alive], origin[alive]
    if not pieces:
        return Segments.empty()
    result = pieces[0]
    for piece in pieces[1:]:
        result = result.concat(piece)
    return result


# Hila: where the pulmonary arteries and veins enter each lung (x, y, u); negative x is right.
RIGHT_ARTERY_HILUM = (-45.0, -2.0, 0.35)
LEFT_ARTERY_HILUM = (48.0, 8.0, 0.33)
RIGHT_VEIN_HILUM = (-42.0, 10.0, 0.53)
LEFT_VEIN_HILUM = (44.0, 14.0, 0.52)
CARINA = (0.0, -2.0, 0.22)
RIGHT_BRONCHUS_END = (-42.0, 2.0, 0.33)
LEFT_BRONCHUS_END = (42.0, 8.0, 0.39)

# Lobar directions (lateral, y, z) with lateral positive towards the side of the lung.
ARTERY_LOBES = ((0.4, -0.3, 1.0), (0.8, -0.6, -0.3), (0.5, 0.6, -0.8), (0.7, 0.0, -0.8))
VEIN_LOBES = ((0.6, -0.4, 0.6), (0.8, -0.3, -0.4), (0.5, 0.6, -0.7))
BRONCHUS_LOBES = ((0.5, -0.2, 1.0), (0.8, -0.6, -0.4), (0.5, 0.5, -0.9))


def _lobar_roots(hilum, lobes, radius, side_sign):
    x, y, u = hilum
    start = _point(x, y, u)
    return [(start, (side_sign * lx, ly, lz), radius) for lx, ly, lz in lobes]


def pulmonary_vessels(rng, depth_inside: InsideTest, min_radius: float) -> Segments:
    roots = (_lobar_roots(RIGHT_ARTERY_HILUM, ARTERY_LOBES, 6.0, -1)
             + _lobar_roots(LEFT_ARTERY_HILUM, ARTERY_LOBES, 5.8, 1)
             + _lobar_roots(RIGHT_VEIN_HILUM, VEIN_LOBES, 5.5, -1)
             + _lobar_roots(LEFT_VEIN_HILUM, VEIN_LOBES, 5.3, 1))
    return grow_tree(rng, roots, depth_inside, min_radius, VESSEL_STYLE)


def bronchial_tree(rng, depth_inside: InsideTest, min_radius: float) -> Segments:
    """Lumen of the lobar and segmental bronchi (walls are added by the renderer)."""
    roots = (_lobar_roots(RIGHT_BRONCHUS_END, BRONCHUS_LOBES, 4.5, -1)
             + _lobar_roots(LEFT_BRONCHUS_END, BRONCHUS_LOBES, 4.2, 1))
    return grow_tree(rng, roots, depth_inside, min_radius, AIRWAY_STYLE)


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
        Segments.from_polyline([_point(-4, -22, 0.52), _point(-6, -28, 0.12), _point(8, -12, 0.02),
                                _point(26, 20, 0.1), _point(26, 24, 0.25), _point(24, 24, 1.3)],
                               [15, 14, 13, 12.5, 12, 11.5]),
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
