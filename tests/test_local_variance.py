import numpy as np
import pytest

from ipv2.local_variance import local_mean_and_variance, local_variance


def test_a_single_bright_voxel_by_hand():
    image = np.zeros((3, 3))
    image[1, 1] = 9.0
    mean, variance = local_mean_and_variance(image, 3)
    # Centre window: the nine values 0 .. 9 .. 0; mean 1, E[x^2] 9, so (9 - 1) * 9/8 = 9.
    assert mean[1, 1] == pytest.approx(1.0) and variance[1, 1] == pytest.approx(9.0)


def test_interior_voxels_match_the_sample_variance_of_their_window():
    image = np.random.default_rng(0).normal(0.0, 30.0, (12, 14))
    variance = local_variance(image, 5)
    for y, x in ((2, 2), (6, 9), (9, 11)):
        window = image[y - 2 : y + 3, x - 2 : x + 3]
        assert variance[y, x] == pytest.approx(np.var(window, ddof=1))


def test_slices_of_a_stack_never_mix_and_flat_slices_have_none():
    noisy = np.random.default_rng(1).normal(0.0, 10.0, (8, 8))
    stack = np.stack([noisy, np.full((8, 8), -1000.0)])
    variance = local_variance(stack, 3)
    np.testing.assert_allclose(variance[0], local_variance(noisy, 3))
    assert np.all(variance[1] == 0.0)
