"""`ipv2 evaluate` with the truth: the noise at lesion scale, from the error's box mean."""

import numpy as np
import pytest

from ipv2.evaluate.report import lesion_noise


def test_white_noise_reads_sigma_over_the_box_side_and_smoothing_lowers_it_less():
    rng = np.random.default_rng(0)
    truth = np.zeros((4, 128, 128))
    noisy = truth + rng.normal(0.0, 30.0, truth.shape)
    flat = {"body": np.zeros(truth.shape, dtype=bool), "empty": np.zeros(truth.shape, dtype=bool)}
    flat["body"][:, 20:-20, 20:-20] = True
    figures = lesion_noise(noisy, truth, flat, box=11)
    assert figures["body"] == pytest.approx(30.0 / 11, rel=0.1)
    assert figures["empty"] is None
    # A blur of the noise removes most of it per pixel, much less of it at lesion scale.
    from scipy import ndimage

    blurred = ndimage.gaussian_filter(noisy, (0, 2.0, 2.0))
    pixel_drop = noisy[flat["body"]].std() / blurred[flat["body"]].std()
    lesion_drop = figures["body"] / lesion_noise(blurred, truth, flat, box=11)["body"]
    assert pixel_drop > 4 * lesion_drop
