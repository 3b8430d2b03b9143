"""Constructed axial scenes whose true regions are known, drawn in mm, and the Dice overlap."""

import numpy as np

from ipv2.masks import LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG

AIR, LUNG, TISSUE, TABLE = -1000.0, -850.0, 40.0, 300.0
SPACING = (0.8, 0.8, 2.5)


def dice(a, b):
    return 2.0 * np.count_nonzero(a & b) / max(1, np.count_nonzero(a) + np.count_nonzero(b))


class Scene:
    """A stack of identical axial slices drawn in mm; `truth` holds the true label of each voxel."""

    def __init__(self, size=200, slices=4, spacing=SPACING):
        self.spacing = spacing
        sx, sy, _ = spacing
        y, x = np.mgrid[0:size, 0:size]
        self.y_mm = (y - size / 2 + 0.5) * sy
        self.x_mm = (x - size / 2 + 0.5) * sx
        self.image = np.full((size, size), AIR, dtype=np.float32)
        self.truth = np.full((size, size), LABEL_BACKGROUND, dtype=np.uint8)
        self.slices = slices

    def ellipse(self, cy, cx, ry, rx):
        return ((self.y_mm - cy) / ry) ** 2 + ((self.x_mm - cx) / rx) ** 2 <= 1

    def box(self, y0, y1, x0, x1):
        return (self.y_mm >= y0) & (self.y_mm < y1) & (self.x_mm >= x0) & (self.x_mm < x1)

    def paint(self, region, hu, label):
        self.image[region] = hu
        self.truth[region] = label

    def chest(self, cy=0.0):
        self.paint(self.ellipse(cy, 0, 50, 68), TISSUE, LABEL_BODY)
        for side in (-1, 1):
            self.paint(self.ellipse(cy, side * 30, 32, 20), LUNG, LABEL_LUNG)
        return self

    def volume(self):
        return np.repeat(self.image[None], self.slices, axis=0).copy()

    def labels(self):
        return np.repeat(self.truth[None], self.slices, axis=0)
