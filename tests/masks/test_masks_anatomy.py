"""HU mask rules for real anatomy, on constructed volumes whose true regions are known:
gas in the body apart from the lungs, opacities inside the lung field, lungs cut by the
field of view, thin air layers of a table, and the trachea on a scanner whose air is not
-1000 HU."""

import json

import numpy as np
import pytest

from ipv2.masks import compute_region_masks
from tests.support.mask_scenes import AIR, LUNG, SPACING, TABLE, TISSUE, Scene, dice

VOXEL_ML = SPACING[0] * SPACING[1] * SPACING[2] / 1000.0


def stack(scene, slices, paint):
    """A (slices, y, x) volume from the scene's image, `paint(z, image)` drawing each slice."""
    volume = np.repeat(scene.image[None], slices, axis=0).copy()
    for z in range(slices):
        paint(z, volume[z])
    return volume


def body(scene, width=68.0):
    scene.paint(scene.ellipse(0, 0, 50, width), TISSUE, 0)
    return scene


@pytest.mark.parametrize("lung_ry, lung_rx", [(32.0, 20.0), (12.0, 9.0)], ids=["full lungs", "lung bases only"])
def test_gas_under_the_lung_is_body_and_counted_as_other_gas(lung_ry, lung_rx):
    # A stomach-like pocket of air under the left lung: it overlaps the lung base from one
    # slice to the next, as gas under the dome does, and is as large as small lung bases.
    scene = body(Scene(slices=16))
    lungs = [scene.ellipse(-5, side * 30, lung_ry, lung_rx) for side in (-1, 1)]
    stomach = scene.ellipse(0, 30, 14, 14)
    lung_truth = np.zeros((16,) + scene.image.shape, dtype=bool)
    gas_truth = np.zeros_like(lung_truth)
    lung_truth[6:] = lungs[0] | lungs[1]
    gas_truth[:6] = stomach

    def paint(z, image):
        image[lung_truth[z]] = LUNG
        image[gas_truth[z]] = AIR

    volume = stack(scene, 16, paint)
    masks = compute_region_masks(volume, volume, spacing=scene.spacing)
    assert masks.other_gas[gas_truth].mean() > 0.95
    assert not masks.lung[gas_truth].any() and not masks.background[gas_truth].any()
    assert masks.body[gas_truth].mean() > 0.95 and not masks.dark[gas_truth].any()
    assert dice(masks.lung, lung_truth) > 0.95
    stats = masks.stats(scene.spacing)
    assert stats["other_gas_ml"] == pytest.approx(np.count_nonzero(gas_truth) * VOXEL_ML, rel=0.1)
    assert stats["lung_ml"] == pytest.approx(np.count_nonzero(lung_truth) * VOXEL_ML, rel=0.1)
    assert stats["air_level_hu"] == pytest.approx(AIR, abs=1) and stats["warnings"] == []
    assert json.loads(json.dumps(stats)) == stats


def test_a_thin_gas_layer_under_the_lung_base_is_gas_though_smoothing_lifts_it_to_the_lungs_level():
    # A colon flexure under the wall: a gas layer 3 mm thick, below the left lung base and
    # overlapping it from one slice to the next. The Gaussian lifts its core to about -870 HU.
    scene = body(Scene(slices=16))
    lungs = scene.ellipse(-5, -30, 32, 20) | scene.ellipse(-5, 30, 32, 20)
    layer = scene.box(-20.0, -17.0, 15.0, 45.0)
    gas_truth = np.zeros((16,) + scene.image.shape, dtype=bool)
    gas_truth[:6] = layer

    def paint(z, image):
        if z >= 6:
            image[lungs] = LUNG
        image[gas_truth[z]] = AIR

    volume = stack(scene, 16, paint)
    masks = compute_region_masks(volume, volume, spacing=scene.spacing)
    assert masks.other_gas[gas_truth].mean() > 0.8
    assert masks.lung[gas_truth].mean() < 0.05
    assert masks.lung[6:, lungs].mean() > 0.97


def test_gas_the_shallower_breath_lifts_into_the_diaphragm_is_gas_not_lung():
    # The NDCT shows the stomach in slices 0-5, tissue in slice 6 and the lungs from 7; the
    # uLDCT, at a shallower breath, shows the stomach up to slice 6 and the lungs from 8. In
    # slice 6 only the uLDCT is dark: the gas the breath moved there, which touches the
    # stomach below and the NDCT's lung above.
    scene = body(Scene(slices=16))
    lungs = scene.ellipse(-5, -30, 32, 20) | scene.ellipse(-5, 30, 32, 20)
    stomach = scene.ellipse(0, 30, 14, 14)

    def volume(stomach_top, lung_bottom):
        def paint(z, image):
            if z >= lung_bottom:
                image[lungs] = LUNG
            if z <= stomach_top:
                image[stomach] = AIR

        return stack(scene, 16, paint)

    ndct, uldct = volume(stomach_top=5, lung_bottom=7), volume(stomach_top=6, lung_bottom=8)
    masks = compute_region_masks(uldct, ndct, spacing=scene.spacing)
    assert masks.other_gas[6][stomach].mean() > 0.9 and not masks.lung[6][stomach].any()
    assert masks.other_gas[:6, stomach].mean() > 0.9
    assert masks.lung[8:, lungs].mean() > 0.97 and masks.lung[7, lungs].mean() > 0.97


def test_moved_gas_that_touches_only_the_lung_is_told_by_the_noisy_uldcts_own_reading():
    # The uLDCT alone shows gas in slice 5, where the NDCT shows tissue; across slices it
    # touches only the lungs (from slice 6) and no other gas. The stomach below (slices 0-3,
    # in both scans) and the lungs give the uLDCT's levels of gas and parenchyma.
    scene = body(Scene(slices=16))
    lungs = scene.ellipse(-5, -30, 32, 20) | scene.ellipse(-5, 30, 32, 20)
    stomach, moved = scene.ellipse(0, 30, 12, 12), scene.ellipse(0, -30, 12, 12)

    def volume(moved_gas):
        def paint(z, image):
            if z >= 6:
                image[lungs] = LUNG
            if z <= 3:
                image[stomach] = AIR
            if moved_gas and z == 5:
                image[moved] = AIR

        return stack(scene, 16, paint)

    noise = np.random.default_rng(3).normal(0.0, 150.0, (16,) + scene.image.shape).astype(np.float32)
    ndct, uldct = volume(moved_gas=False), volume(moved_gas=True) + noise
    masks = compute_region_masks(uldct, ndct, spacing=scene.spacing)
    assert not masks.lung[5][moved].any() and masks.other_gas[5][moved].mean() > 0.8
    assert masks.lung[6:, lungs].mean() > 0.95 and masks.other_gas[:4, stomach].mean() > 0.9


def test_lung_that_reads_air_everywhere_is_still_lung_while_noise_turns_the_gas_rule_off():
    scene = body(Scene(slices=24))  # each lung 120 mL: above min_dark_lung_ml
    lungs = scene.ellipse(0, -30, 32, 20) | scene.ellipse(0, 30, 32, 20)
    emphysema = stack(scene, 24, lambda z, image: image.__setitem__(lungs, AIR))
    masks = compute_region_masks(emphysema, emphysema, spacing=scene.spacing)
    assert masks.lung[:, lungs].mean() > 0.97 and not masks.other_gas.any()

    noisy = stack(scene, 24, lambda z, image: image.__setitem__(lungs, LUNG))
    noisy[:, scene.ellipse(30, 0, 8, 8)] = AIR  # a gas pocket apart from the lungs
    noisy = noisy + np.random.default_rng(0).normal(0, 400, noisy.shape).astype(np.float32)
    masks = compute_region_masks(noisy, noisy, spacing=scene.spacing)
    assert masks.warnings and "too noisy" in masks.warnings[0]
    assert masks.lung[:, scene.ellipse(30, 0, 6, 6)].mean() > 0.9  # as before gas was told


def test_a_tumour_and_a_bite_at_the_pleura_lie_inside_the_lung_field():
    scene = body(Scene(slices=4))
    lungs = [scene.ellipse(0, side * 30, 32, 20) for side in (-1, 1)]
    for lung in lungs:
        scene.paint(lung, LUNG, 2)
    tumour = scene.ellipse(0, -30, 8, 8)  # soft tissue inside the right lung
    bite = scene.box(24, 40, 26, 34)  # a dependent opacity 8 mm wide at the left lung's back
    scene.paint(tumour, TISSUE, 0)
    scene.paint(bite & lungs[1], TISSUE, 0)
    masks = compute_region_masks(scene.volume(), scene.volume(), spacing=scene.spacing)

    assert not masks.lung[:, tumour].any()
    assert masks.lung_field[:, tumour].all()
    bite_in_lung = np.repeat((bite & lungs[1])[None], 4, axis=0)
    # The closing fills the bite but near its mouth, where the lung's own curve opens it.
    assert masks.lung_field[bite_in_lung].mean() > 0.75
    assert not masks.lung[bite_in_lung].any()
    field_truth = np.repeat((lungs[0] | lungs[1])[None], 4, axis=0)
    assert dice(masks.lung_field, field_truth) > 0.97
    assert not (masks.lung & ~masks.lung_field).any() and not (masks.lung_field & masks.background).any()
    between = scene.box(-5, 5, -6, 6)  # the mediastinum between the lungs stays out
    assert not masks.lung_field[:, between].any()
    stats = masks.stats(scene.spacing)
    assert stats["lung_field_ml"] == pytest.approx(np.count_nonzero(field_truth) * VOXEL_ML, rel=0.03)
    assert stats["lung_field_ml"] > stats["lung_ml"] + np.count_nonzero(tumour) * 4 * VOXEL_ML * 0.9


def cropped_chest(slices, enclosed_from):
    """A chest wider than the 160 mm image; from slice `enclosed_from` on the right lung lies
    inside the image, before it the image border cuts it."""
    scene = body(Scene(slices=slices), width=95.0)
    left = scene.ellipse(0, 40, 30, 22)
    cut = scene.ellipse(0, -62, 30, 22)  # reaches x = -84 mm, beyond the border at -80
    inside = scene.ellipse(0, -50, 30, 22)
    truth = np.zeros((slices,) + scene.image.shape, dtype=bool)
    for z in range(slices):
        truth[z] = left | (inside if z >= enclosed_from else cut)
    volume = stack(scene, slices, lambda z, image: image.__setitem__(truth[z], LUNG))
    return scene, volume, truth, cut


def test_lung_cut_by_the_field_of_view_stays_lung_when_it_joins_the_enclosed_lung():
    scene, volume, truth, cut = cropped_chest(8, enclosed_from=4)
    assert truth[0, :, 0].any()  # the lung touches the image border in the first slices
    masks = compute_region_masks(volume, volume, spacing=scene.spacing)
    assert masks.lung[:4, cut].mean() > 0.97
    assert dice(masks.lung, truth) > 0.97
    assert masks.info["enclosed"]["cut_lung_slices"] == "0-3"
    assert masks.warnings == []


def test_lung_cut_in_every_slice_is_named_in_a_warning():
    scene, volume, truth, cut = cropped_chest(6, enclosed_from=6)
    masks = compute_region_masks(volume, volume, spacing=scene.spacing)
    assert masks.background[:, cut].mean() > 0.97  # no enclosed lung to tell it from outside air
    assert len(masks.warnings) == 1 and "slices 0-5" in masks.warnings[0]
    assert masks.stats(scene.spacing)["warnings"] == masks.warnings


def test_thin_air_layer_of_a_thick_walled_table_under_the_back_is_background():
    scene = body(Scene(slices=4))
    for side in (-1, 1):
        scene.paint(scene.ellipse(0, side * 30, 32, 20), LUNG, 2)
    scene.paint(scene.box(49, 59, -75, 75), TABLE, 0)  # 4 mm walls: beyond the 2.5 mm wall rule
    layer = scene.box(53, 55, -70, 70)  # a 2 mm air layer inside it
    scene.paint(layer, AIR, 1)
    masks = compute_region_masks(scene.volume(), scene.volume(), spacing=scene.spacing)
    assert masks.background[:, layer].mean() > 0.9
    assert not masks.lung[:, layer].any() and not masks.other_gas[:, layer].any()

    thick = body(Scene(slices=4))
    for side in (-1, 1):
        thick.paint(thick.ellipse(0, side * 30, 32, 20), LUNG, 2)
    pocket = thick.ellipse(30, 0, 6, 10)  # bowel-like gas 12 mm thick deep in the body: not a layer
    thick.paint(pocket, AIR, 0)
    masks = compute_region_masks(thick.volume(), thick.volume(), spacing=thick.spacing)
    assert masks.other_gas[:, pocket].mean() > 0.9


def test_trachea_below_a_wide_larynx_on_a_scanner_whose_air_reads_minus_950():
    scanner_air = -950.0  # air reads -950 HU: above the old fixed -950 HU airway level once smoothed
    scene = Scene(slices=24)
    scene.image[:] = scanner_air
    scene.paint(scene.ellipse(0, 0, 50, 68), TISSUE, 0)
    airway_truth = np.zeros((24,) + scene.image.shape, dtype=bool)
    lungs = [scene.ellipse(0, side * 34, 32, 22) for side in (-1, 1)]

    def paint(z, image):
        if z >= 10:
            for lung in lungs:
                image[lung] = LUNG
        if z < 2:
            airway = scene.ellipse(-5, 0, 16, 20)  # the larynx: 1000 mm^2, wider than a trachea
        elif z < 12:
            airway = scene.ellipse(-5, 0, 8, 8)
        elif z < 16:
            shift = 5.0 * (z - 11)
            airway = scene.ellipse(-5, -shift, 5, 5) | scene.ellipse(-5, shift, 5, 5)
        else:
            return
        image[airway] = scanner_air
        if z >= 2:
            airway_truth[z] = airway

    volume = stack(scene, 24, paint)
    masks = compute_region_masks(volume, volume, spacing=scene.spacing)
    assert masks.info["air_level_hu"] == pytest.approx(scanner_air, abs=1)
    assert masks.info["airways"]["found"]
    assert masks.info["airways"]["trachea_slices"][0] == 2  # the run starts below the larynx
    assert dice(masks.airways, airway_truth) > 0.8
    assert masks.stats(scene.spacing)["airways_ml"] == pytest.approx(np.count_nonzero(airway_truth) * VOXEL_ML, rel=0.2)
