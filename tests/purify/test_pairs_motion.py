"""The IPv2m rules voxel by voxel on pairs whose breathing shift is known by construction."""

import numpy as np
import pytest
from scipy import ndimage

from ipv2.purify.pairs import (
    MotionRules,
    disagreement_band,
    ipv2_pair,
    ipv2m_label,
    ipv2m_pair,
    lung_field,
    purification_region,
    stitch_weights,
)
from tests.support.pair_masks import SHAPE, SHIFT_PX, shifted_pair


@pytest.fixture
def case():
    lq, gt, masks, truth = shifted_pair()
    rng = np.random.default_rng(5)
    simulated = (gt + rng.normal(0, 30, SHAPE)).astype(np.float32)
    weak = (lq + np.float32(7.0)).astype(np.float32)  # any image distinct from lq and gt
    return lq, gt, masks, truth, simulated, weak


def test_the_band_is_where_one_scan_shows_body_and_the_other_air(case):
    _, _, masks, truth, _, _ = case
    band = disagreement_band(masks)
    np.testing.assert_array_equal(band, truth["band"])
    # A shift of s pixels leaves, along the shift axis, s pixels of band on each side.
    row = band[0, 24]
    assert np.count_nonzero(row) == 2 * SHIFT_PX


def test_agreed_background_takes_the_uldct_side_in_the_band_and_the_ndct_elsewhere(case):
    lq, gt, masks, truth, simulated, weak = case
    rules = MotionRules(agreed_background=True, lung_field=False, stitch_blend_px=0)
    train_input, target = ipv2m_pair(lq, gt, masks, rules, weak, simulated_gt=simulated)
    band = truth["band"]
    np.testing.assert_array_equal(target, np.where(band, weak, gt))
    np.testing.assert_array_equal(train_input, np.where(masks.lung, simulated, lq))
    # Where the uLDCT shows body and the NDCT air, the paper's target paints the NDCT's air.
    lq_body_gt_air = band & (lq > -500)
    assert lq_body_gt_air.any()
    _, paper_target = ipv2_pair(lq, gt, masks, simulated_gt=simulated)
    assert (paper_target[lq_body_gt_air] < -900).all() and (target[lq_body_gt_air] > -500).all()


def test_all_rules_off_is_the_papers_ipv2(case):
    lq, gt, masks, _, simulated, weak = case
    off = MotionRules(agreed_background=False, lung_field=False, stitch_blend_px=0)
    for add_noise in (True, False):
        for remove_background in (True, False):
            ours = ipv2m_pair(
                lq,
                gt,
                masks,
                off,
                weak,
                remove_background=remove_background,
                add_noise=add_noise,
                simulated_gt=simulated,
            )
            paper = ipv2_pair(
                lq, gt, masks, remove_background=remove_background, add_noise=add_noise, simulated_gt=simulated
            )
            for a, b in zip(ours, paper):
                np.testing.assert_array_equal(a, b)


def test_lung_field_holds_the_vessel_and_both_sides_of_the_pair_take_it_from_the_ndct(case):
    lq, gt, masks, truth, simulated, weak = case
    field = lung_field(masks)
    np.testing.assert_array_equal(field, truth["lung_field"])
    assert not masks.lung[truth["vessel"]].any()
    rules = MotionRules(agreed_background=False, lung_field=True, stitch_blend_px=0)
    train_input, target = ipv2m_pair(lq, gt, masks, rules, weak, simulated_gt=simulated)
    np.testing.assert_array_equal(train_input, np.where(field, simulated, lq))
    np.testing.assert_array_equal(target, gt)
    label = ipv2m_label(gt, masks, weak, rules)
    np.testing.assert_array_equal(label, np.where(field, weak, gt))


def test_lung_field_is_taken_from_the_masks_when_they_carry_one(case):
    _, _, masks, _, _, _ = case
    given = np.zeros(SHAPE, bool)
    given[:, 10:14, 10:14] = True
    masks.lung_field = given
    np.testing.assert_array_equal(lung_field(masks), given)
    np.testing.assert_array_equal(purification_region(masks, True, True), given)
    np.testing.assert_array_equal(purification_region(masks, False, True), given | masks.dark)


def test_without_add_noise_the_region_keeps_the_uldct_and_the_band_its_weak_denoising(case):
    lq, gt, masks, truth, _, weak = case
    rules = MotionRules(agreed_background=True, lung_field=True, stitch_blend_px=0)
    train_input, target = ipv2m_pair(lq, gt, masks, rules, weak, add_noise=False)
    field, band = truth["lung_field"], truth["band"]
    np.testing.assert_array_equal(train_input, lq)
    np.testing.assert_array_equal(target, np.where(field, lq, np.where(band, weak, gt)))


def test_without_remove_background_the_band_rule_has_nothing_to_act_on(case):
    lq, gt, masks, truth, simulated, weak = case
    rules = MotionRules(agreed_background=True, lung_field=True, stitch_blend_px=0)
    train_input, target = ipv2m_pair(lq, gt, masks, rules, weak, remove_background=False, simulated_gt=simulated)
    region = masks.dark | truth["lung_field"]
    np.testing.assert_array_equal(train_input, np.where(region, simulated, lq))
    np.testing.assert_array_equal(target, gt)
    np.testing.assert_array_equal(
        ipv2m_label(gt, masks, weak, rules, remove_background=False), np.where(region, weak, gt)
    )


def test_label_is_the_weak_uldct_in_the_lung_field_and_the_band(case):
    lq, gt, masks, truth, _, weak = case
    label = ipv2m_label(gt, masks, weak, MotionRules())
    inside = truth["lung_field"] | truth["band"]
    np.testing.assert_array_equal(label, np.where(inside, weak, gt))


@pytest.mark.parametrize("blend_px", [1, 3])
def test_stitch_blend_ramps_by_chessboard_distance_within_the_body(blend_px):
    region = np.zeros((1, 21, 21), bool)
    region[0, 10, 10] = True
    background = np.zeros_like(region)
    background[0, :, 17:] = True
    weights = stitch_weights(region, background, blend_px)
    yy, xx = np.mgrid[0:21, 0:21]
    distance = np.maximum(np.abs(yy - 10), np.abs(xx - 10))
    expected = np.clip(1.0 - distance / (blend_px + 1.0), 0.0, 1.0)
    expected[background[0]] = 0.0
    np.testing.assert_allclose(weights[0], expected, rtol=0, atol=1e-7)


def test_stitch_blend_mixes_the_input_by_its_weights_and_leaves_the_target(case):
    lq, gt, masks, truth, simulated, weak = case
    rules = MotionRules(agreed_background=True, lung_field=True, stitch_blend_px=2)
    train_input, target = ipv2m_pair(lq, gt, masks, rules, weak, simulated_gt=simulated)
    field = truth["lung_field"]
    weights = stitch_weights(field, masks.background, 2)
    np.testing.assert_allclose(train_input, weights * simulated + (1 - weights) * lq, rtol=0, atol=1e-3)
    np.testing.assert_array_equal(train_input[field], simulated[field])
    ring1 = ndimage.binary_dilation(field, np.ones((1, 3, 3), bool)) & ~field
    np.testing.assert_allclose(train_input[ring1], (2 / 3) * simulated[ring1] + (1 / 3) * lq[ring1], atol=1e-3)
    far = ~ndimage.binary_dilation(field, np.ones((1, 5, 5), bool))
    np.testing.assert_array_equal(train_input[far], lq[far])
    np.testing.assert_array_equal(target, np.where(truth["band"], weak, gt))


def test_motion_pairs_never_modify_their_inputs(case):
    lq, gt, masks, _, simulated, weak = case
    arrays = [lq, gt, simulated, weak, masks.dark, masks.lung, masks.background, masks.dark_lq, masks.dark_gt]
    before = [a.copy() for a in arrays]
    outputs = [
        *ipv2m_pair(lq, gt, masks, MotionRules(stitch_blend_px=3), weak, simulated_gt=simulated),
        *ipv2m_pair(lq, gt, masks, MotionRules(), weak, add_noise=False),
        ipv2m_label(gt, masks, weak, MotionRules()),
    ]
    for output in outputs:
        output += 1  # results own their memory
    for original, now in zip(before, arrays):
        np.testing.assert_array_equal(original, now)
