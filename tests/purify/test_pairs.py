import numpy as np
import pytest

from ipv2.errors import InputError
from ipv2.purify.pairs import evaluation_label, ipv1_label, ipv1_pair, ipv2_pair
from tests.support.pair_masks import hand_masks


@pytest.fixture
def images():
    rng = np.random.default_rng(7)
    shape = (2, 16, 16)
    return (
        rng.normal(0, 100, shape).astype(np.float32),
        rng.normal(500, 100, shape).astype(np.float32),
        rng.normal(1000, 100, shape).astype(np.float32),
        rng.normal(-500, 10, shape).astype(np.float32),
    )


def expected(mask, inside, outside):
    m = mask.astype(np.float32)
    return m * inside + (1 - m) * outside


def test_ipv1_pair_and_label(images):
    lq, gt, _, _ = images
    masks = hand_masks()
    train_input, target = ipv1_pair(lq, gt, masks)
    np.testing.assert_array_equal(train_input, lq)
    np.testing.assert_array_equal(target, expected(masks.dark, lq, gt))
    np.testing.assert_array_equal(ipv1_label(lq, gt, masks), expected(masks.dark, lq, gt))


@pytest.mark.parametrize("remove_background", [True, False])
def test_ipv2_without_add_noise_takes_the_region_from_the_uldct(images, remove_background):
    lq, gt, _, _ = images
    masks = hand_masks()
    region = masks.lung if remove_background else masks.dark
    train_input, target = ipv2_pair(lq, gt, masks, remove_background=remove_background, add_noise=False)
    np.testing.assert_array_equal(train_input, lq)
    np.testing.assert_array_equal(target, expected(region, lq, gt))


def test_remove_background_only_puts_ndct_background_in_the_target(images):
    lq, gt, _, _ = images
    masks = hand_masks()
    _, target = ipv2_pair(lq, gt, masks, remove_background=True, add_noise=False)
    np.testing.assert_array_equal(target[masks.background], gt[masks.background])
    np.testing.assert_array_equal(target[masks.lung], lq[masks.lung])


@pytest.mark.parametrize("remove_background", [True, False])
def test_ipv2_with_add_noise_puts_the_simulation_in_the_region_and_ndct_as_target(images, remove_background):
    lq, gt, simulated, _ = images
    masks = hand_masks()
    region = masks.lung if remove_background else masks.dark
    train_input, target = ipv2_pair(
        lq, gt, masks, remove_background=remove_background, add_noise=True, simulated_gt=simulated
    )
    np.testing.assert_array_equal(train_input, expected(region, simulated, lq))
    np.testing.assert_array_equal(target, gt)


@pytest.mark.parametrize("remove_background", [True, False])
def test_evaluation_label_is_denoised_uldct_in_the_region_and_ndct_elsewhere(images, remove_background):
    lq, gt, _, denoised = images
    masks = hand_masks()
    region = masks.lung if remove_background else masks.dark
    label = evaluation_label(gt, masks, denoised, remove_background=remove_background)
    np.testing.assert_array_equal(label, expected(region, denoised, gt))
    np.testing.assert_array_equal(label[~region], gt[~region])


def test_pairs_never_modify_their_inputs(images):
    lq, gt, simulated, denoised = images
    masks = hand_masks()
    before = [a.copy() for a in images] + [masks.dark.copy(), masks.lung.copy()]
    outputs = [
        *ipv1_pair(lq, gt, masks),
        *ipv2_pair(lq, gt, masks, simulated_gt=simulated),
        ipv1_label(lq, gt, masks),
        evaluation_label(gt, masks, denoised),
    ]
    for output in outputs:
        output += 1  # results own their memory
    for original, now in zip(before, [*images, masks.dark, masks.lung]):
        np.testing.assert_array_equal(original, now)


def test_uint8_slices_stay_uint8(images):
    masks = hand_masks()
    lq, gt = (np.clip(a, 0, 255).astype(np.uint8) for a in images[:2])
    train_input, target = ipv1_pair(lq, gt, masks)
    assert train_input.dtype == target.dtype == np.uint8


def test_add_noise_needs_the_simulation_and_shapes_must_agree(images):
    lq, gt, _, _ = images
    masks = hand_masks()
    with pytest.raises(InputError, match="simulated"):
        ipv2_pair(lq, gt, masks, add_noise=True)
    with pytest.raises(InputError, match="shape"):
        ipv1_pair(lq[:, :8], gt[:, :8], masks)
