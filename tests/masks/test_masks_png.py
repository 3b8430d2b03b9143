"""The authors' 8-bit PNG masks on hand-built slices."""

import numpy as np
import pytest
from skimage.filters import threshold_otsu

from ipv2.errors import InputError
from ipv2.masks import compute_png_region_masks, compute_region_masks
from ipv2.masks.png_masks import authors_dark_mask, drop_isolated_pixels, opencv_cross_opening

DARK, BRIGHT = 20, 200


def plain_slice(shape):
    """A bright slice with one pixel at DARK + 1.

    On a two-level image Otsu's threshold is the dark level itself, which nothing is darker
    than; the single pixel moves it to DARK + 1, so every DARK pixel is dark.
    """
    image = np.full(shape, BRIGHT, dtype=np.uint8)
    image[shape[0] // 2 + 3, shape[1] - 8] = DARK + 1
    return image


def split_by_body():
    """Air above and below a body that spans the full width, with a lung block inside it.

    Only the upper air holds the corner pixel (0, 0).
    """
    image = plain_slice((40, 40))
    image[:8] = DARK
    image[32:] = DARK
    image[14:22, 10:18] = DARK
    return image


def test_corner_flood_makes_only_the_corner_component_background():
    image = split_by_body()
    masks = compute_png_region_masks(image, image)
    assert masks.background[:8].all() and not masks.background[8:].any()
    # the air below the body touches the border but not the corner: the authors' rule calls it lung
    assert masks.lung[32:].all()
    assert masks.lung[15:21, 11:17].all()  # the opening rounds off the block's corner pixels
    assert masks.labelmap()[0, 0] == 1 and masks.labelmap()[35, 20] == 2 and masks.labelmap()[25, 20] == 0
    assert not masks.airways.any()


def test_hu_mode_floods_from_every_border_pixel_where_the_png_mode_does_not():
    image = split_by_body()
    hu = np.where(image == DARK, -1000.0, 40.0).astype(np.float32)[None].repeat(3, axis=0)
    hu[:, 14:22, 10:18] = -850.0  # the block reads as lung parenchyma; pure air there would be other gas
    hu_masks = compute_region_masks(hu, hu, spacing=(5.0, 5.0, 5.0))
    assert hu_masks.background[:, 33:].all()
    assert hu_masks.lung[:, 15:21, 11:17].all()


def test_corner_flood_uses_4_connectivity():
    image = plain_slice((30, 30))
    image[:10, :10] = DARK  # holds the corner
    image[10:20, 10:20] = DARK  # meets it only at a diagonal, (9, 9) to (10, 10)
    image[8, 10] = image[11, 9] = DARK  # so that the opening keeps both pixels of that contact
    masks = compute_png_region_masks(image, image)
    assert masks.dark[9, 9] and masks.dark[10, 10]
    assert masks.background[:9, :9].all() and masks.background[9, 9]
    assert masks.lung[10, 10] and masks.lung[11:19, 11:19].all()
    assert not masks.background[10:20, 10:20].any()


def test_no_background_when_the_corner_pixel_is_not_dark():
    image = split_by_body()
    image[:3, :3] = BRIGHT
    masks = compute_png_region_masks(image, image)
    assert not masks.background.any()
    np.testing.assert_array_equal(masks.lung, masks.dark)


def test_opening_with_the_cross_follows_opencv_at_the_border():
    mask = np.zeros((1, 20, 20), dtype=bool)
    mask[0, 0:2, :] = True  # two rows on the top border: the border does not erode them
    mask[0, 9:11, :] = True  # two rows inside the image: too thin for the cross
    mask[0, 14:17, 4:7] = True  # a 3x3 block: keeps its cross, loses its corners
    opened = opencv_cross_opening(mask)[0]
    assert opened[0:2].all()
    assert not opened[9:11].any()
    expected_block = np.zeros((3, 3), dtype=bool)
    expected_block[1, :] = expected_block[:, 1] = True
    np.testing.assert_array_equal(opened[14:17, 4:7], expected_block)


def test_pixels_without_a_set_8_neighbour_are_dropped():
    mask = np.zeros((1, 10, 10), dtype=bool)
    mask[0, 0, 0] = True  # alone in the corner: outside the image counts as unset
    mask[0, 5, 5] = True  # alone
    mask[0, 2, 7] = mask[0, 3, 8] = True  # a diagonal pair: each has an 8-neighbour
    kept = drop_isolated_pixels(mask)[0]
    assert not kept[0, 0] and not kept[5, 5]
    assert kept[2, 7] and kept[3, 8]
    assert np.count_nonzero(kept) == 2


def test_threshold_is_otsu_per_slice_and_strictly_darker_is_dark():
    low = split_by_body()
    low[24:30, 24:30] = DARK + 1  # a block at the threshold level itself
    assert threshold_otsu(low) == DARK + 1
    brighter = np.select([low == DARK, low == DARK + 1], [120, 121], 250).astype(np.uint8)
    dark = authors_dark_mask(np.stack([low, brighter]))
    np.testing.assert_array_equal(dark[0], dark[1])
    np.testing.assert_array_equal(dark[0], opencv_cross_opening((low == DARK)[None])[0])
    assert dark[0, :8].all() and dark[0, 15:21, 11:17].all()
    assert not dark[0, 24:30, 24:30].any()


def test_union_of_the_two_masks():
    lq = split_by_body()
    gt = lq.copy()
    gt[14:22, 10:18] = BRIGHT  # the lung block is dark only in the uLDCT
    masks = compute_png_region_masks(lq, gt)
    assert masks.dark_lq[15:21, 11:17].all() and not masks.dark_gt[14:22, 10:18].any()
    assert masks.lung[15:21, 11:17].all()
    np.testing.assert_array_equal(masks.dark, masks.dark_lq | masks.dark_gt)


def test_stacks_match_single_slices_and_inputs_are_not_modified():
    first = split_by_body()
    second = plain_slice((40, 40))
    second[:, :6] = DARK
    second[20:30, 20:30] = DARK
    lq = np.stack([first, second])
    gt = lq.copy()
    gt[1, 22:28, 22:28] = 90
    lq_copy, gt_copy = lq.copy(), gt.copy()
    stacked = compute_png_region_masks(lq, gt)
    assert stacked.lung.shape == (2, 40, 40)
    for index in range(2):
        single = compute_png_region_masks(lq[index], gt[index])
        assert single.lung.shape == (40, 40)
        np.testing.assert_array_equal(stacked.labelmap()[index], single.labelmap())
    np.testing.assert_array_equal(lq, lq_copy)
    np.testing.assert_array_equal(gt, gt_copy)


@pytest.mark.parametrize(
    "lq, gt, message",
    [
        (np.zeros((8, 8), np.float32), np.zeros((8, 8), np.uint8), "uint8"),
        (np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8), "differ in size"),
        (np.zeros((2, 2, 8, 8), np.uint8), np.zeros((2, 2, 8, 8), np.uint8), "shape"),
        ([[0]], np.zeros((8, 8), np.uint8), "numpy array"),
    ],
)
def test_bad_png_input_is_one_clear_error(lq, gt, message):
    with pytest.raises(InputError, match=message):
        compute_png_region_masks(lq, gt)
