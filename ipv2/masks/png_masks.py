"""Region masks of 8-bit PNG slices, reproducing the authors' published behaviour.

Per slice and per image: Otsu's threshold (scikit-image), pixels darker than it are dark;
one opening with OpenCV's 3x3 ellipse, which is the 3x3 cross, with OpenCV's border rule
(the image border neither erodes nor dilates); then dark pixels with no dark pixel among
their 8 neighbours are dropped (pixels outside the image count as not dark). The two masks
are united and the dark component holding the corner pixel (0, 0), 4-connected, is the
background; the rest of the dark union is lung. No airways are reported.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

from ipv2.errors import InputError
from ipv2.masks.regions import RegionMasks
from ipv2.masks.slicewise import in_plane_cross, label_slices


def compute_png_region_masks(lq_u8: np.ndarray, gt_u8: np.ndarray) -> RegionMasks:
    """Masks of uLDCT and NDCT 8-bit slices, (H, W) or (n, H, W); the result has their shape."""
    _check(lq_u8, "uLDCT")
    _check(gt_u8, "NDCT")
    if lq_u8.shape != gt_u8.shape:
        raise InputError(f"uLDCT and NDCT slices differ in size: {lq_u8.shape} against {gt_u8.shape}")
    single = lq_u8.ndim == 2
    lq = lq_u8[None] if single else lq_u8
    gt = gt_u8[None] if single else gt_u8

    dark_lq = authors_dark_mask(lq)
    dark_gt = authors_dark_mask(gt)
    dark = dark_lq | dark_gt
    labels, count = label_slices(dark, connectivity=1)
    is_background = np.zeros(count + 1, dtype=bool)
    is_background[labels[:, 0, 0]] = True
    is_background[0] = False
    background = is_background[labels]
    lung = dark & ~background

    masks = [dark_lq, dark_gt, dark, background, lung, np.zeros_like(dark)]
    if single:
        masks = [mask[0] for mask in masks]
    dark_lq, dark_gt, dark, background, lung, airways = masks
    return RegionMasks(dark_lq, dark_gt, dark, background, lung, airways, info={"method": "png"})


def authors_dark_mask(stack: np.ndarray) -> np.ndarray:
    """Dark mask of each uint8 slice of an (n, H, W) stack, as the authors compute it."""
    thresholds = np.array([threshold_otsu(image) for image in stack], dtype=np.float64)
    dark = stack < thresholds[:, None, None]
    return drop_isolated_pixels(opencv_cross_opening(dark))


def opencv_cross_opening(mask: np.ndarray) -> np.ndarray:
    """Opening of each slice with the 3x3 cross, with OpenCV's default border.

    OpenCV pads erosion with the largest value and dilation with the smallest, so the image
    border neither erodes nor dilates; scipy's defaults would erode dark pixels on the border.
    """
    cross = in_plane_cross()
    return ndi.binary_dilation(ndi.binary_erosion(mask, cross, border_value=1), cross, border_value=0)


def drop_isolated_pixels(mask: np.ndarray) -> np.ndarray:
    """Pixels of each slice that have at least one set pixel among their 8 neighbours.

    After the opening every pixel already has a set 4-neighbour, so in the authors' order
    this step changes nothing; it is kept so that the steps match theirs one to one.
    """
    ring = np.zeros((3, 3, 3), dtype=np.uint8)
    ring[1] = 1
    ring[1, 1, 1] = 0
    neighbours = ndi.convolve(mask.view(np.uint8), ring, mode="constant", cval=0)
    return mask & (neighbours > 0)


def _check(image, name: str) -> None:
    if not isinstance(image, np.ndarray):
        raise InputError(f"{name}: a numpy array of 8-bit slices is needed, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InputError(f"{name}: 8-bit slices (uint8) are needed, got {image.dtype}")
    if image.ndim not in (2, 3) or image.size == 0:
        raise InputError(f"{name}: an (H, W) slice or an (n, H, W) stack is needed, got shape {image.shape}")
