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
Inputs are never modified; results are new arrays.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ipv2.errors import InputError

Pair = Tuple[np.ndarray, np.ndarray]


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


def training_region(masks, remove_background: bool) -> np.ndarray:
    """`M_lung` when the background has been removed from the dark mask, else `M_dark`."""
    return np.asarray(masks.lung if remove_background else masks.dark, dtype=bool)


def ipv1_pair(lq: np.ndarray, gt: np.ndarray, masks) -> Pair:
    """Input `lq`; target `M_dark*lq + (1-M_dark)*gt`."""
    return np.array(lq, copy=True), compose(masks.dark, lq, gt)


def ipv2_pair(lq: np.ndarray, gt: np.ndarray, masks, *, remove_background: bool = True,
              add_noise: bool = True, simulated_gt: Optional[np.ndarray] = None) -> Pair:
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


def ipv1_label(lq: np.ndarray, gt: np.ndarray, masks) -> np.ndarray:
    """IPv1's evaluation label `M_dark*lq + (1-M_dark)*gt`: the noisy uLDCT in the dark region."""
    return compose(masks.dark, lq, gt)


def evaluation_label(gt: np.ndarray, masks, weak_lq: np.ndarray, *, remove_background: bool = True) -> np.ndarray:
    """IPv2's label `M_lung*weak(lq) + (1-M_lung)*gt` (`M_dark` without Remove Background).

    Outside the region the label is the NDCT voxel for voxel; inside, the uLDCT after a
    conventional denoiser, whose lungs are where the input's lungs are.
    """
    return compose(training_region(masks, remove_background), weak_lq, gt)
