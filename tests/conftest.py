import numpy as np
import pytest

from ipv2.volume import Volume


def chest_like(shape=(4, 64, 64), seed=0) -> np.ndarray:
    """A small body-in-air volume in HU: an ellipse of soft tissue with two dark lungs."""
    rng = np.random.default_rng(seed)
    z, h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = h / 2, w / 2
    body = ((yy - cy) / (0.38 * h)) ** 2 + ((xx - cx) / (0.45 * w)) ** 2 <= 1
    lung_l = ((yy - cy) / (0.25 * h)) ** 2 + ((xx - cx + 0.2 * w) / (0.14 * w)) ** 2 <= 1
    lung_r = ((yy - cy) / (0.25 * h)) ** 2 + ((xx - cx - 0.2 * w) / (0.14 * w)) ** 2 <= 1
    image = np.full((h, w), -1000.0)
    image[body] = 40.0
    image[lung_l | lung_r] = -850.0
    volume = np.repeat(image[None], z, axis=0)
    return (volume + rng.normal(0, 5, volume.shape)).astype(np.float32)


@pytest.fixture
def ct_volume() -> Volume:
    return Volume(chest_like(), spacing=(0.7, 0.7, 2.5), origin=(-20.0, 10.0, 5.0),
                  direction=(1, 0, 0, 0, -1, 0, 0, 0, 1))
