"""The in-plane OpenCV filters give what the SciPy calls they stand for give, edges included."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from ipv2.masks import inplane_filters
from ipv2.masks.slicewise import in_plane_cross


@pytest.fixture
def stack():
    rng = np.random.default_rng(3)
    return (rng.standard_normal((3, 37, 29)) * 300.0 - 600.0).astype(np.float32)


@pytest.fixture
def mask():
    rng = np.random.default_rng(4)
    return ndi.gaussian_filter(rng.standard_normal((3, 41, 33)), (0, 1.5, 1.5)) > 0.05


@pytest.mark.parametrize("sigma_y, sigma_x", [(1.43, 1.43), (2.0, 0.8), (0.3, 0.3)])
def test_gaussian_is_scipys_in_plane_gaussian_with_nearest_edges(stack, sigma_y, sigma_x):
    expected = ndi.gaussian_filter(stack, (0, sigma_y, sigma_x), truncate=2.0, mode="nearest")
    smooth = inplane_filters.gaussian(stack, sigma_y, sigma_x, 2.0)
    assert smooth.dtype == np.float32 and smooth.shape == stack.shape
    np.testing.assert_allclose(smooth, expected, atol=1e-2)


def test_gaussian_leaves_each_slice_to_itself(stack):
    stack[1] = 0.0
    assert np.all(inplane_filters.gaussian(stack, 1.5, 1.5, 2.0)[1] == 0.0)


def test_mean_3x3_is_scipys_uniform_filter_with_nearest_edges(stack):
    expected = ndi.uniform_filter(stack, size=(1, 3, 3), mode="nearest")
    np.testing.assert_allclose(inplane_filters.mean_3x3(stack), expected, atol=1e-2)


def test_grow_and_shrink_are_scipys_rectangle_filters(mask):
    size = (1, 5, 7)
    grown = ndi.maximum_filter(mask.view(np.uint8), size=size, mode="constant", cval=0).view(bool)
    assert np.array_equal(inplane_filters.grow(mask, 2, 3), grown)
    for outside_set in (True, False):
        shrunk = ndi.minimum_filter(mask.view(np.uint8), size=size, mode="constant", cval=int(outside_set)).view(bool)
        assert np.array_equal(inplane_filters.shrink(mask, 2, 3, outside_set=outside_set), shrunk)


def test_cross_steps_are_scipys_binary_morphology(mask):
    cross = in_plane_cross()
    assert np.array_equal(inplane_filters.grow_cross(mask, 3), ndi.binary_dilation(mask, cross, iterations=3))
    assert np.array_equal(inplane_filters.shrink_cross(mask), ndi.binary_erosion(mask, cross))


def test_filters_read_their_input_only(mask, stack):
    kept_mask, kept_stack = mask.copy(), stack.copy()
    inplane_filters.grow(mask, 1, 1)
    inplane_filters.shrink_cross(mask)
    inplane_filters.gaussian(stack, 1.0, 1.0, 2.0)
    assert np.array_equal(mask, kept_mask) and np.array_equal(stack, kept_stack)
