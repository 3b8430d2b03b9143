"""Region masks in HU on constructed volumes whose true regions are known."""

import json

import numpy as np
import pytest
from scipy import ndimage as ndi

from ipv2.errors import Cancelled, InputError
from ipv2.masks import LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG, MaskParameters, RegionMasks, compute_region_masks
from ipv2.progress import Monitor
from ipv2.volume import Volume
from tests.support.mask_scenes import AIR, LUNG, SPACING, TABLE, TISSUE, Scene, dice


def masks_of(scene, lq=None, gt=None, **kwargs):
    lq = scene.volume() if lq is None else lq
    gt = scene.volume() if gt is None else gt
    return compute_region_masks(lq, gt, spacing=scene.spacing, **kwargs)


def assert_regions_match(masks, truth, min_dice=0.97):
    labels = masks.labelmap()
    for value in (LABEL_BODY, LABEL_BACKGROUND, LABEL_LUNG):
        score = dice(labels == value, truth == value)
        assert score >= min_dice, f"label {value}: Dice {score:.3f}"


def test_body_in_air_gives_true_regions():
    scene = Scene().chest()
    masks = masks_of(scene)
    assert_regions_match(masks, scene.labels(), min_dice=0.98)
    assert not masks.airways.any()


def test_masks_are_consistent_and_labels_have_the_agreed_values():
    scene = Scene().chest()
    lq = scene.volume()
    lq[:, 96:104, 160:168] = AIR  # dark only in the uLDCT, at the lung's edge: the union must hold it
    masks = masks_of(scene, lq=lq)
    labels = masks.labelmap()
    assert (LABEL_BODY, LABEL_BACKGROUND, LABEL_LUNG) == (0, 1, 2)
    assert labels.dtype == np.uint8 and set(np.unique(labels)) == {0, 1, 2}
    np.testing.assert_array_equal(masks.dark, masks.dark_lq | masks.dark_gt)
    np.testing.assert_array_equal(masks.dark, masks.background | masks.lung)
    assert not (masks.background & masks.lung).any()
    np.testing.assert_array_equal(masks.body, ~masks.dark)
    np.testing.assert_array_equal(labels == LABEL_LUNG, masks.lung)
    np.testing.assert_array_equal(labels == LABEL_BACKGROUND, masks.background)
    assert masks.dark_lq[:, 100, 165].all() and not masks.dark_gt[:, 100, 165].any()
    assert masks.lung[:, 100, 165].all()


def test_volumes_in_millilitres_follow_the_spacing():
    scene = Scene().chest()
    masks = masks_of(scene)
    volumes = masks.volumes_ml((0.8, 0.8, 2.5))
    voxel_ml = 0.8 * 0.8 * 2.5 / 1000
    assert volumes["lung"] == pytest.approx(np.count_nonzero(masks.lung) * voxel_ml)
    assert volumes["body"] + volumes["background"] + volumes["lung"] == pytest.approx(masks.lung.size * voxel_ml)
    true_lung_ml = np.count_nonzero(scene.labels() == LABEL_LUNG) * voxel_ml
    assert volumes["lung"] == pytest.approx(true_lung_ml, rel=0.05)
    assert masks.volumes_ml((1.6, 0.8, 2.5))["lung"] == pytest.approx(2 * volumes["lung"])
    with pytest.raises(InputError, match="spacing"):
        masks.volumes_ml((0.8, 0, 2.5))


@pytest.mark.parametrize(
    "top, wall",
    [(54.0, 2.0), (50.0, 2.0), (56.0, 6.0)],
    ids=["thin table apart", "thin table under the back", "thick table apart"],
)
def test_air_pocket_inside_the_table_is_not_lung(top, wall):
    # Carbon-fibre walls of 2 mm fall to the wall rule; a thick-walled table standing apart
    # from the body falls to the rule that lungs lie inside the patient.
    scene = Scene().chest()
    shell = scene.box(top, top + 8 + 2 * wall, -75, 75)
    pocket = scene.box(top + wall, top + wall + 8, -75 + wall, 75 - wall)
    scene.paint(shell, TABLE, LABEL_BODY)
    scene.paint(pocket, AIR, LABEL_BACKGROUND)
    masks = masks_of(scene)
    pocket_voxels = np.repeat(pocket[None], scene.slices, axis=0)
    assert not masks.lung[pocket_voxels].any()
    assert masks.background[pocket_voxels].mean() > 0.9
    assert_regions_match(masks, scene.labels())


@pytest.mark.parametrize("padding", [-1024.0, -2048.0, -3024.0])
def test_circular_field_of_view_padding_is_background(padding):
    scene = Scene().chest()
    outside = scene.x_mm**2 + scene.y_mm**2 > 76.0**2
    scene.paint(outside, padding, LABEL_BACKGROUND)
    masks = masks_of(scene)
    outside_voxels = np.repeat(outside[None], scene.slices, axis=0)
    assert masks.background[outside_voxels].all()
    assert_regions_match(masks, scene.labels(), min_dice=0.98)

    unpadded = Scene().chest()
    np.testing.assert_array_equal(masks.labelmap(), masks_of(unpadded).labelmap())


def test_body_touching_the_border_splits_the_outside_air_and_all_of_it_is_background():
    scene = Scene()
    scene.paint(scene.ellipse(0, 0, 50, 95), TISSUE, LABEL_BODY)  # wider than the 160 mm image
    for side in (-1, 1):
        scene.paint(scene.ellipse(0, side * 35, 30, 22), LUNG, LABEL_LUNG)
    # an air pocket closed off by the body and the image border, like air beside an arm
    notch = scene.box(-10, 10, -80, -70)
    scene.paint(notch, AIR, LABEL_BACKGROUND)
    masks = masks_of(scene)
    below_body = np.repeat((scene.y_mm > 55)[None], scene.slices, axis=0)
    assert masks.background[below_body].all()
    assert not masks.lung[:, notch].any()
    assert masks.background[:, notch].mean() > 0.95  # all but the corners rounded by smoothing
    assert_regions_match(masks, scene.labels())


def test_small_noise_islands_are_body_and_the_size_limit_is_in_mm2():
    scene = Scene().chest()
    speck = scene.box(-40, -37.6, -3.2, 0)  # 3x4 pixels of air in the body: 7.7 mm^2 at 0.8 mm
    scene.image[speck] = AIR
    masks = masks_of(scene)
    assert not masks.dark[:, speck].any()
    assert not masks.dark_lq[:, speck].any() and not masks.dark_gt[:, speck].any()
    assert_regions_match(masks, scene.labels(), min_dice=0.98)

    assert not masks.other_gas[:, speck].any()

    coarse = Scene(spacing=(2.0, 2.0, 2.5)).chest()  # the same pixels now cover 48 mm^2: a gas pocket
    rows, cols = np.nonzero(speck)
    coarse.image[:] = scene.image
    masks = compute_region_masks(coarse.volume(), coarse.volume(), spacing=coarse.spacing)
    assert masks.other_gas[:, rows, cols].all() and not masks.lung[:, rows, cols].any()


def test_trachea_and_main_bronchi_are_lung_and_reported_as_airways():
    scene = Scene(slices=20)
    scene.paint(scene.ellipse(0, 0, 50, 68), TISSUE, LABEL_BODY)
    volume = np.repeat(scene.image[None], scene.slices, axis=0)
    airway_truth = np.zeros(volume.shape, dtype=bool)
    lung_truth = np.zeros(volume.shape, dtype=bool)
    lungs = [scene.ellipse(0, side * 34, 32, 22) for side in (-1, 1)]
    trachea = scene.ellipse(-5, 0, 8, 8)
    for z in range(20):
        if z >= 6:
            for lung in lungs:
                volume[z][lung] = LUNG
                lung_truth[z] |= lung
        if z < 8:  # the trachea descends alone for 15 mm, then runs beside the lungs
            airway = trachea
        elif z < 14:  # then splits; each main bronchus heads into its lung
            shift = 5.0 * (z - 7)
            airway = scene.ellipse(-5, -shift, 5, 5) | scene.ellipse(-5, shift, 5, 5)
        else:
            continue
        volume[z][airway] = AIR
        airway_truth[z] |= airway
        lung_truth[z] |= airway

    masks = compute_region_masks(volume, volume, spacing=scene.spacing)
    assert masks.info["airways"]["found"]
    assert json.loads(json.dumps(masks.info)) == masks.info  # the purify report stores it
    assert not (masks.airways & ~masks.lung).any()
    assert dice(masks.airways, airway_truth) > 0.85
    assert dice(masks.lung, lung_truth) > 0.95
    assert masks.lung[:6][airway_truth[:6]].all()  # trachea-only slices are lung
    assert masks.volumes_ml(scene.spacing)["airways"] == pytest.approx(
        np.count_nonzero(airway_truth) * 0.8 * 0.8 * 2.5 / 1000, rel=0.15
    )


def test_no_airways_are_claimed_without_a_trachea():
    masks = masks_of(Scene(slices=8).chest())
    assert not masks.airways.any()
    assert masks.info["airways"]["found"] is False


def correlated_noise(shape, std, seed):
    noise = ndi.gaussian_filter(np.random.default_rng(seed).standard_normal(shape), (0, 1.0, 1.0))
    return (noise * (std / noise.std())).astype(np.float32)


def test_heavy_ultra_low_dose_noise_keeps_the_regions():
    scene = Scene(slices=6).chest()
    ndct = scene.volume() + correlated_noise((6, 200, 200), 15.0, seed=1)
    uldct = scene.volume() + correlated_noise((6, 200, 200), 300.0, seed=2)
    masks = compute_region_masks(uldct, ndct, spacing=scene.spacing)
    assert_regions_match(masks, scene.labels(), min_dice=0.97)

    truth_dark = scene.labels() != LABEL_BODY
    unsmoothed = compute_region_masks(uldct, ndct, spacing=scene.spacing, parameters=MaskParameters(smooth_mm=0.0))
    assert dice(masks.dark_lq, truth_dark) > 0.97
    assert dice(masks.dark_lq, truth_dark) > dice(unsmoothed.dark_lq, truth_dark) + 0.02


def test_both_scans_at_ultra_low_dose_still_give_the_regions():
    scene = Scene(slices=6).chest()
    uldct = scene.volume() + correlated_noise((6, 200, 200), 300.0, seed=3)
    ndct = scene.volume() + correlated_noise((6, 200, 200), 300.0, seed=4)
    assert_regions_match(compute_region_masks(uldct, ndct, spacing=scene.spacing), scene.labels(), min_dice=0.93)


def test_inputs_are_never_modified_and_volumes_give_their_spacing():
    scene = Scene().chest()
    outside = scene.x_mm**2 + scene.y_mm**2 > 76.0**2
    scene.image[outside] = -3024.0
    lq, gt = scene.volume(), scene.volume() + 5
    lq_copy, gt_copy = lq.copy(), gt.copy()
    from_arrays = compute_region_masks(lq, gt, spacing=scene.spacing)
    np.testing.assert_array_equal(lq, lq_copy)
    np.testing.assert_array_equal(gt, gt_copy)
    from_volumes = compute_region_masks(Volume(lq, spacing=scene.spacing), Volume(gt, spacing=scene.spacing))
    np.testing.assert_array_equal(from_arrays.labelmap(), from_volumes.labelmap())
    np.testing.assert_array_equal(lq, lq_copy)


def test_integer_volumes_give_the_same_masks_as_float():
    scene = Scene().chest()
    floats = compute_region_masks(scene.volume(), scene.volume(), spacing=scene.spacing)
    ints = scene.volume().astype(np.int16)
    np.testing.assert_array_equal(compute_region_masks(ints, ints, spacing=scene.spacing).labelmap(), floats.labelmap())


def test_chunks_and_threads_do_not_change_the_result():
    scene = Scene(slices=7).chest()
    lq = scene.volume() + correlated_noise((7, 200, 200), 200.0, seed=5)
    whole = masks_of(scene, lq=lq, parameters=MaskParameters(chunk_slices=64, workers=1))
    chunked = masks_of(scene, lq=lq, parameters=MaskParameters(chunk_slices=2, workers=2))
    np.testing.assert_array_equal(whole.labelmap(), chunked.labelmap())
    for name in ("dark_lq", "dark_gt", "dark", "background", "lung", "airways", "other_gas", "lung_field"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(chunked, name), err_msg=name)
    assert whole.lung.any() and whole.other_gas is not None


def test_progress_is_reported_per_stage_and_cancel_stops_the_work():
    scene = Scene(slices=6).chest()
    seen = []
    masks_of(
        scene,
        monitor=Monitor(lambda stage, done, total: seen.append((stage, done, total))),
        parameters=MaskParameters(chunk_slices=2),
    )
    assert ("region masks", 3, 3) in seen and ("airways", 1, 1) in seen
    assert [done for stage, done, _ in seen if stage == "region masks"] == [0, 1, 2, 3]

    monitor = Monitor()
    monitor.cancel()
    with pytest.raises(Cancelled):
        masks_of(scene, monitor=monitor)

    seen.clear()

    def cancel_after_first_chunk(stage, done, total):
        seen.append((stage, done))
        if done == 1:
            monitor_midway.cancel()

    monitor_midway = Monitor(cancel_after_first_chunk)
    with pytest.raises(Cancelled):
        masks_of(scene, monitor=monitor_midway, parameters=MaskParameters(chunk_slices=2, workers=1))
    assert ("region masks", 3) not in seen and not any(stage == "airways" for stage, _ in seen)


@pytest.mark.parametrize(
    "lq, gt, spacing, message",
    [
        (np.zeros((4, 32, 32)), np.zeros((4, 32, 30)), SPACING, "differ in size"),
        (np.zeros((32, 32)), np.zeros((32, 32)), SPACING, "3D"),
        (np.full((4, 32, 32), np.nan), np.zeros((4, 32, 32)), SPACING, "NaN"),
        (np.zeros((4, 32, 32)), np.zeros((4, 32, 32)), None, "spacing"),
        (np.zeros((4, 32, 32)), np.zeros((4, 32, 32)), (0.8, -1, 2), "spacing"),
        (np.zeros((4, 32, 32)), np.zeros((4, 32, 32)), (0.8, 0.8), "spacing"),
        ("image", np.zeros((4, 32, 32)), SPACING, "numpy array"),
    ],
)
def test_bad_input_is_one_clear_error(lq, gt, spacing, message):
    with pytest.raises(InputError, match=message):
        compute_region_masks(lq, gt, spacing=spacing)


def test_region_masks_dataclass_body_is_what_is_not_dark():
    dark = np.array([[True, True, False]])
    masks = RegionMasks(
        dark_lq=dark,
        dark_gt=dark,
        dark=dark,
        background=np.array([[True, False, False]]),
        lung=np.array([[False, True, False]]),
        airways=np.zeros((1, 3), dtype=bool),
    )
    np.testing.assert_array_equal(masks.body, [[False, False, True]])
    np.testing.assert_array_equal(masks.labelmap(), [[1, 2, 0]])


def test_airway_growth_that_floods_the_lung_is_given_up():
    scene = Scene(slices=20)
    scene.paint(scene.ellipse(0, 0, 50, 68), TISSUE, LABEL_BODY)
    volume = np.repeat(scene.image[None], scene.slices, axis=0)
    for z in range(20):
        if z >= 6:  # emphysema-like lungs as dark as air, joined to the trachea
            for side in (-1, 1):
                volume[z][scene.ellipse(0, side * 34, 32, 22)] = AIR
            volume[z][scene.box(-8, 0, -20, 20)] = AIR
        volume[z][scene.ellipse(-5, 0, 8, 8)] = AIR
    masks = compute_region_masks(volume, volume, spacing=scene.spacing)
    assert masks.lung[6:, 100, 100 - 42].all()
    assert not masks.airways.any()
    assert "leaked" in masks.info["airways"]["reason"]


def test_trachea_beside_the_apices_is_found_and_off_centre_gas_is_not_taken_for_it():
    scene = Scene(slices=20)
    scene.paint(scene.ellipse(0, 0, 50, 68), TISSUE, LABEL_BODY)
    volume = np.repeat(scene.image[None], scene.slices, axis=0)
    trachea_truth = np.zeros(volume.shape, dtype=bool)
    gas_truth = np.zeros(volume.shape, dtype=bool)
    for z in range(20):
        apex = 10 + 1.5 * z  # lungs from small apices to full size: no slice holds the trachea alone
        for side in (-1, 1):
            volume[z][scene.ellipse(-5, side * 34, min(apex, 30), min(apex, 20))] = LUNG
        if z < 8:
            trachea_truth[z] = scene.ellipse(-15, 0, 8, 8)
        elif z < 10:  # main bronchi into each lung
            trachea_truth[z] = scene.box(-19, -11, -20, 20)
        if z >= 10:  # a longer run of stomach-like gas at the other end, left of the middle
            gas_truth[z] = scene.ellipse(32, 25, 6, 6)
    volume[trachea_truth | gas_truth] = AIR

    masks = compute_region_masks(volume, volume, spacing=scene.spacing)
    assert masks.info["airways"]["found"]
    assert masks.info["airways"]["trachea_slices"][0] == 0
    assert not (masks.airways & gas_truth).any()
    assert dice(masks.airways, trachea_truth) > 0.9
    assert masks.other_gas[gas_truth].mean() > 0.9  # gas apart from the lung is body
    assert not masks.lung[gas_truth].any()
