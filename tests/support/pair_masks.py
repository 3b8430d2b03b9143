"""Region masks known by construction for checking purification pairs voxel by voxel."""

import numpy as np

from ipv2.masks import RegionMasks


def hand_masks(shape=(2, 16, 16)):
    """Background in the top rows, lung in a square, body elsewhere; airways inside the lung."""
    background = np.zeros(shape, bool)
    background[:, :3] = True
    lung = np.zeros(shape, bool)
    lung[:, 6:12, 4:10] = True
    airways = np.zeros(shape, bool)
    airways[:, 6:8, 6:8] = True
    dark = background | lung
    return RegionMasks(
        dark_lq=dark.copy(), dark_gt=dark.copy(), dark=dark, background=background, lung=lung, airways=airways
    )


SHAPE = (2, 48, 48)
SHIFT_PX = 2


def disc(cy, cx, radius, shape=SHAPE):
    yy, xx = np.mgrid[0 : shape[1], 0 : shape[2]]
    return np.broadcast_to((yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2, shape).copy()


def shifted_pair():
    """Body disc and lung disc of the NDCT moved SHIFT_PX pixels right in the uLDCT; a vessel
    (a 2x2 block of tissue) inside the lung of both scans. Masks follow the method's
    definitions with a plain -500 HU threshold, so every set is known exactly."""
    body_gt, body_lq = disc(24, 22, 16), disc(24, 22 + SHIFT_PX, 16)
    lung_gt, lung_lq = disc(24, 22, 7), disc(24, 22 + SHIFT_PX, 7)
    vessel = np.zeros(SHAPE, bool)
    vessel[:, 23:25, 23:25] = True
    rng = np.random.default_rng(3)

    def scan(body, lung, noise):
        image = np.where(body, 40.0, -1000.0)
        image[lung & ~vessel] = -850.0
        return (image + rng.normal(0, noise, SHAPE)).astype(np.float32)

    lq, gt = scan(body_lq, lung_lq, 30.0), scan(body_gt, lung_gt, 5.0)
    dark_lq, dark_gt = ~body_lq | (lung_lq & ~vessel), ~body_gt | (lung_gt & ~vessel)
    dark = dark_lq | dark_gt
    background = ~(body_lq & body_gt)  # the dark union connected to the border
    lung = dark & ~background
    masks = RegionMasks(
        dark_lq=dark_lq, dark_gt=dark_gt, dark=dark, background=background, lung=lung, airways=np.zeros(SHAPE, bool)
    )
    truth = dict(band=body_lq ^ body_gt, lung_field=lung | vessel, vessel=vessel)
    return lq, gt, masks, truth
