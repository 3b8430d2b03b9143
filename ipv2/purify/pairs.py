"""Purified training pairs and evaluation labels, exactly as the method defines them.

Every pair is a per-voxel choice between two images under a region mask, `M*a + (1-M)*b`
for a binary `M`, computed as `where(M, a, b)` so that no arithmetic touches the values.

Which region each mode uses (see docs/purify.md):
- IPv1 uses the dark mask `M_dark` (lung and background air together).
- Remove Background splits `M_dark` into background and lung and uses `M_lung`, so the
  background of the target comes from the NDCT; without it the region stays `M_dark`.
- Add noise replaces the region of the input by `sim(gt)` and takes `gt` as the target:
  there the pair is aligned by construction. Without it the region of the target is the
  uLDCT itself, as in IPv1.

The motion-aware mode (IPv2m, `MotionRules`) adds three rules against breathing and patient
shift between the scans, each of which can be switched off:
- agreed background: the target takes the NDCT's background only where both scans are
  dark; in the band `B` where one scan shows body and the other air, it follows the uLDCT
  (its weak denoising), so no outline of the other breathing state is painted in;
- lung field: the region of Add noise and Remove noise is the lung field `L` (the lung
  with the vessels, nodules and tumours it encloses), so a vessel never comes from one
  breathing state while the parenchyma around it comes from the other;
- stitch blend: the input crosses from `sim(gt)` to `lq` over a few pixels of body
  instead of at once.
Inputs are never modified; results are new arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from ipv2.errors import InputError

if TYPE_CHECKING:
    from ipv2.masks.regions import RegionMasks

Pair = tuple[np.ndarray, np.ndarray]


def _check_shapes(region: np.ndarray, **images: np.ndarray) -> None:
    for name, image in images.items():
        if np.shape(image) != region.shape:
            raise InputError(f"{name}: shape {np.shape(image)} differs from the masks' {region.shape}")


def compose(region: np.ndarray, inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """`region*inside + (1-region)*outside` for a boolean region, in the images' common type."""
    region = np.asarray(region, dtype=bool)
    inside, outside = np.asarray(inside), np.asarray(outside)
    _check_shapes(region, inside=inside, outside=outside)
    return np.where(region, inside, outside).astype(np.result_type(inside, outside), copy=False)


def training_region(masks: RegionMasks, remove_background: bool) -> np.ndarray:
    """`M_lung` when the background has been removed from the dark mask, else `M_dark`."""
    return np.asarray(masks.lung if remove_background else masks.dark, dtype=bool)


def ipv1_pair(lq: np.ndarray, gt: np.ndarray, masks: RegionMasks) -> Pair:
    """Input `lq`; target `M_dark*lq + (1-M_dark)*gt`."""
    return np.array(lq, copy=True), compose(masks.dark, lq, gt)


def ipv2_pair(
    lq: np.ndarray,
    gt: np.ndarray,
    masks: RegionMasks,
    *,
    remove_background: bool = True,
    add_noise: bool = True,
    simulated_gt: np.ndarray | None = None,
) -> Pair:
    """The IPv2 pair for any subset of {Remove Background, Add noise}.

    With Add noise: input `M*sim(gt) + (1-M)*lq`, target `gt`. Without: input `lq`, target
    `M*lq + (1-M)*gt`. `M` is `M_lung` with Remove Background and `M_dark` without, so
    neither module gives IPv1.
    """
    region = training_region(masks, remove_background)
    if not add_noise:
        return np.array(lq, copy=True), compose(region, lq, gt)
    if simulated_gt is None:
        raise InputError("Add noise needs the simulated low-dose scan of the NDCT (simulated_gt)")
    _check_shapes(region, lq=np.asarray(lq), gt=np.asarray(gt))
    return compose(region, simulated_gt, lq), np.array(gt, copy=True)


def ipv1_label(lq: np.ndarray, gt: np.ndarray, masks: RegionMasks) -> np.ndarray:
    """IPv1's evaluation label `M_dark*lq + (1-M_dark)*gt`: the noisy uLDCT in the dark region."""
    return compose(masks.dark, lq, gt)


def evaluation_label(
    gt: np.ndarray, masks: RegionMasks, weak_lq: np.ndarray, *, remove_background: bool = True
) -> np.ndarray:
    """IPv2's label `M_lung*weak(lq) + (1-M_lung)*gt` (`M_dark` without Remove Background).

    Outside the region the label is the NDCT voxel for voxel; inside, the uLDCT after a
    conventional denoiser, whose lungs are where the input's lungs are.
    """
    return compose(training_region(masks, remove_background), weak_lq, gt)


@dataclass(frozen=True)
class MotionRules:
    """The rules of IPv2m; all off is the paper's IPv2."""

    agreed_background: bool = True
    lung_field: bool = True
    stitch_blend_px: int = 0


def lung_field(masks: RegionMasks) -> np.ndarray:
    """`L`: the lung mask with everything it encloses in its slice (vessels, nodules, tumours).

    The masks' own lung field when they carry one; otherwise the holes of `M_lung` are
    filled slice by slice (a hole in 3D would need closing in z too, which breathing breaks).
    """
    field = getattr(masks, "lung_field", None)
    if field is not None:
        return np.asarray(field, dtype=bool)
    lung = np.asarray(masks.lung, dtype=bool)
    if lung.ndim == 2:
        return np.asarray(ndimage.binary_fill_holes(lung), dtype=bool)
    return np.stack([ndimage.binary_fill_holes(plane) for plane in lung]) if lung.size else lung.copy()


def purification_region(masks: RegionMasks, remove_background: bool, use_lung_field: bool) -> np.ndarray:
    """`R`, the region of Add noise and Remove noise.

    `M_lung` with Remove Background, `M_dark` without (the paper); with the lung field `L`
    in place of `M_lung`: `R = L`, or `M_dark OR L` without Remove Background.
    """
    region = training_region(masks, remove_background)
    if not use_lung_field:
        return region
    field = lung_field(masks)
    return field if remove_background else field | region


def disagreement_band(masks: RegionMasks) -> np.ndarray:
    """`B = M_background AND NOT (D_lq AND D_gt)`: background of the pair that one scan shows as body.

    `D_lq`, `D_gt` are each scan's dark mask; the pair's background is dark in at least one.
    """
    dark_in_both = np.asarray(masks.dark_lq, dtype=bool) & np.asarray(masks.dark_gt, dtype=bool)
    band: np.ndarray = np.asarray(masks.background, dtype=bool) & ~dark_in_both
    return band


def stitch_weights(region: np.ndarray, background: np.ndarray, blend_px: int) -> np.ndarray:
    """The weight `w` of `sim(gt)` in the input: 1 in `R`, `1 - d/(b+1)` in the body, 0 in the background.

    `d` is the in-plane chessboard distance in pixels from `R` (8-neighbour steps), `b` the
    blend width: the body within `b` pixels of the region ramps down to the uLDCT. `b = 0`
    gives the hard stitch `w = R`.
    """
    region = np.asarray(region, dtype=bool)
    weights = region.astype(np.float32)
    body = ~region & ~np.asarray(background, dtype=bool)
    square = np.ones((3, 3), dtype=bool) if region.ndim == 2 else np.ones((1, 3, 3), dtype=bool)
    reached = region
    for distance in range(1, int(blend_px) + 1):
        grown = ndimage.binary_dilation(reached, structure=square)
        ring = grown & ~reached & body
        weights[ring] = np.float32(1.0 - distance / (blend_px + 1.0))
        reached = grown
    return weights


def _motion_band(masks: RegionMasks, rules: MotionRules, remove_background: bool) -> np.ndarray:
    # Without Remove Background the background is inside R and the band rule has nothing to act on.
    if rules.agreed_background and remove_background:
        return disagreement_band(masks)
    return np.zeros(np.shape(masks.dark), dtype=bool)


def ipv2m_pair(
    lq: np.ndarray,
    gt: np.ndarray,
    masks: RegionMasks,
    rules: MotionRules,
    weak_lq: np.ndarray,
    *,
    remove_background: bool = True,
    add_noise: bool = True,
    simulated_gt: np.ndarray | None = None,
) -> Pair:
    """The IPv2m pair: IPv2 with `R` from `purification_region` and the rules' band and blend.

    With Add noise: input `w*sim(gt) + (1-w)*lq` (`w` from `stitch_weights`), target
    `B*weak(lq) + (1-B)*gt`. Without: input `lq`, target `R*lq + B*weak(lq) + (1-R-B)*gt`.
    `B` is `disagreement_band` with the agreed-background rule and Remove Background, else
    empty; `R` and `B` never overlap. `weak_lq` is the uLDCT after the label's denoiser.
    """
    region = purification_region(masks, remove_background, rules.lung_field)
    band = _motion_band(masks, rules, remove_background)
    _check_shapes(region, lq=np.asarray(lq), gt=np.asarray(gt), weak_lq=np.asarray(weak_lq))
    if not add_noise:
        return np.array(lq, copy=True), compose(region, lq, compose(band, weak_lq, gt))
    if simulated_gt is None:
        raise InputError("Add noise needs the simulated low-dose scan of the NDCT (simulated_gt)")
    target = compose(band, weak_lq, gt)
    if rules.stitch_blend_px <= 0:
        return compose(region, simulated_gt, lq), target
    _check_shapes(region, simulated_gt=np.asarray(simulated_gt))
    weights = stitch_weights(region, masks.background, rules.stitch_blend_px)
    simulated, low = np.asarray(simulated_gt, dtype=np.float32), np.asarray(lq, dtype=np.float32)
    return (weights * simulated + (1.0 - weights) * low).astype(np.float32), target


def ipv2m_label_region(masks: RegionMasks, rules: MotionRules, remove_background: bool = True) -> np.ndarray:
    """`R OR B`: where the IPv2m label is the denoised uLDCT."""
    region: np.ndarray = purification_region(masks, remove_background, rules.lung_field) | _motion_band(
        masks, rules, remove_background
    )
    return region


def ipv2m_label(
    gt: np.ndarray, masks: RegionMasks, weak_lq: np.ndarray, rules: MotionRules, *, remove_background: bool = True
) -> np.ndarray:
    """The IPv2m label `(R OR B)*weak(lq) + (1 - (R OR B))*gt`."""
    return compose(ipv2m_label_region(masks, rules, remove_background), weak_lq, gt)
