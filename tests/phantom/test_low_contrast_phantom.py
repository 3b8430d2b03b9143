import itertools

import numpy as np
import pytest

from ipv2.errors import InputError
from ipv2.phantom.low_contrast import (
    REALISATIONS_PER_BLOCK,
    WATER_DIAMETER_MM,
    low_contrast_sites,
    noise_free_reference,
    render_low_contrast_slice,
    render_ttf_slice,
    roi_side_px,
    simulate_realisations,
)

PIXEL_MM = 0.7
STATED = {3.0: 14.0, 5.0: 7.0, 7.0: 5.0, 10.0: 3.0}


@pytest.fixture(scope="module")
def phantom():
    return render_low_contrast_slice(320, PIXEL_MM)


def _disc_pixels(phantom, site, shrink_mm=0.0):
    rows, columns = np.mgrid[: phantom.hu.shape[0], : phantom.hu.shape[1]]
    row, column = phantom.centre_px(site)
    distance_mm = np.hypot(rows - row, columns - column) * PIXEL_MM
    return distance_mm <= site.diameter_mm / 2.0 - shrink_mm, distance_mm


def test_the_discs_are_the_stated_sizes_and_contrasts_three_copies_each(phantom):
    discs = [site for site in phantom.sites if not site.absent]
    assert {(site.diameter_mm, site.contrast_hu) for site in discs} == set(STATED.items())
    for diameter in STATED:
        assert len(phantom.discs(diameter)) == 3
        assert sum(site.ring_mm == 35.0 for site in phantom.discs(diameter)) == 1
    assert len(phantom.absent_sites()) == 6
    assert sum(site.ring_mm == 35.0 for site in phantom.absent_sites()) == 2


def test_each_disc_is_drawn_where_and_as_strong_as_stated(phantom):
    for site in phantom.sites:
        if site.absent:
            continue
        core, distance = _disc_pixels(phantom, site, shrink_mm=PIXEL_MM)
        # Wholly inside: exactly water plus the contrast.
        np.testing.assert_allclose(phantom.hu[core], site.contrast_hu, atol=1e-4)
        # Partial volume keeps the disc's area: its excess over water integrates to contrast x area.
        near = distance <= site.diameter_mm / 2.0 + 2.0
        area_mm2 = phantom.hu[near].sum() * PIXEL_MM**2 / site.contrast_hu
        assert area_mm2 == pytest.approx(np.pi * site.diameter_mm**2 / 4.0, rel=0.02)
        # Its centre of mass is the stated centre.
        rows, columns = np.nonzero(near)
        weights = phantom.hu[near]
        row, column = phantom.centre_px(site)
        assert np.average(rows, weights=weights) == pytest.approx(row, abs=0.05)
        assert np.average(columns, weights=weights) == pytest.approx(column, abs=0.05)
        assert np.hypot(*site.centre_mm) == pytest.approx(site.ring_mm)
        assert phantom.hu[np.isclose(distance, site.diameter_mm / 2.0 + 1.5, atol=0.4)].max() == pytest.approx(0.0)


def test_water_cylinder_in_air_and_disc_free_sites(phantom):
    size = phantom.hu.shape[0]
    rows, columns = np.mgrid[:size, :size] - (size - 1) / 2.0
    radius_mm = np.hypot(rows, columns) * PIXEL_MM
    assert np.all(phantom.hu[radius_mm > WATER_DIAMETER_MM / 2 + PIXEL_MM] == -1000.0)
    twin = render_low_contrast_slice(320, PIXEL_MM, discs=False)
    assert np.all(twin.hu[radius_mm < WATER_DIAMETER_MM / 2 - PIXEL_MM] == 0.0)
    assert np.array_equal(twin.hu[radius_mm > 90], phantom.hu[radius_mm > 90])
    # Disc-free sites and every disc's observer ROI see water alone, apart from its own disc.
    for site in phantom.sites:
        side = roi_side_px(10.0 if site.absent else site.diameter_mm, PIXEL_MM)
        row, column = (int(round(v)) for v in phantom.centre_px(site))
        half = side // 2
        roi = phantom.hu[row - half : row + half, column - half : column + half]
        twin_roi = twin.hu[row - half : row + half, column - half : column + half]
        assert np.all(twin_roi == 0.0)
        if site.absent:
            assert np.all(roi == 0.0)
        else:
            assert roi.sum() * PIXEL_MM**2 == pytest.approx(
                site.contrast_hu * np.pi * site.diameter_mm**2 / 4, rel=0.02
            )


def test_sites_are_at_least_35_mm_apart():
    sites = low_contrast_sites()
    distances = [
        np.hypot(a.centre_mm[0] - b.centre_mm[0], a.centre_mm[1] - b.centre_mm[1])
        for a, b in itertools.combinations(sites, 2)
    ]
    assert min(distances) >= 35.0 - 1e-9


def test_ttf_rods():
    ttf = render_ttf_slice(320, PIXEL_MM)
    assert sorted(site.contrast_hu for site in ttf.sites) == [15.0, 15.0, 120.0, 120.0]
    for site in ttf.sites:
        row, column = (int(round(v)) for v in ttf.centre_px(site))
        assert ttf.hu[row, column] == pytest.approx(site.contrast_hu)


def test_realisations_are_a_pure_function_of_seed_dose_and_index(phantom):
    count = REALISATIONS_PER_BLOCK + 2
    many = simulate_realisations(phantom, 0.1, count, seed=3)
    few = simulate_realisations(phantom, 0.1, 2, seed=3)
    np.testing.assert_array_equal(many[:2], few)
    again = simulate_realisations(phantom, 0.1, count, seed=3)
    np.testing.assert_array_equal(many, again)
    # No two realisations, in a block or across blocks, share their noise.
    water = np.abs(np.arange(320) - 159.5)[:, None] ** 2 + np.abs(np.arange(320) - 159.5)[None, :] ** 2 < 20**2
    centred = many[:, water] - many[:, water].mean(axis=0)
    correlation = np.corrcoef(centred)
    assert np.abs(correlation[~np.eye(count, dtype=bool)]).max() < 0.5
    other = simulate_realisations(phantom, 0.1, 2, seed=4)
    assert not np.allclose(other, few)
    full = simulate_realisations(phantom, 1.0, 2, seed=3)
    assert full[:, water].std() < 0.5 * few[:, water].std()


def test_noise_free_reference_keeps_the_water_and_the_discs(phantom):
    reference = noise_free_reference(phantom)
    site = phantom.discs(10.0)[0]
    row, column = (int(round(v)) for v in phantom.centre_px(site))
    assert reference[row, column] == pytest.approx(3.0, abs=0.5)
    # The reconstruction leaves a little ripple (about 1 HU at the very centre), no offset.
    assert reference[140:180, 140:180].mean() == pytest.approx(0.0, abs=0.3)
    assert np.abs(reference[140:180, 140:180]).max() < 2.0


def test_grid_and_seed_are_checked():
    with pytest.raises(InputError, match="cannot hold"):
        render_low_contrast_slice(256, 0.7)
    with pytest.raises(InputError, match="positive"):
        render_low_contrast_slice(320, -0.7)
    with pytest.raises(InputError, match="seed"):
        simulate_realisations(render_ttf_slice(), 0.1, 2, seed=-1)
    with pytest.raises(InputError, match="realisations"):
        simulate_realisations(render_ttf_slice(), 0.1, 0)


def test_figures_of_white_noise_on_the_phantom(phantom):
    from ipv2.evaluate.low_contrast import ensemble_noise, insert_contrast, observer_data_for, water_nps
    from ipv2.evaluate.observer import bootstrap_weights, detectability

    sigma, count = 5.0, 120
    images = phantom.hu + np.random.default_rng(0).normal(0.0, sigma, (count,) + phantom.hu.shape)
    noise = ensemble_noise(images, phantom)
    assert noise["pixel_noise_hu"] == pytest.approx(sigma, rel=0.03)
    # A box mean of 11 x 11 pixels of white noise: sigma / 11.
    assert noise["lesion_box_mm"] == pytest.approx(7.7)
    assert noise["lesion_noise_hu"] == pytest.approx(sigma / 11.0, rel=0.08)
    assert water_nps(images[:4], phantom)["band_power"]["high"] == pytest.approx(1 - np.pi / 16, abs=0.03)
    for diameter, contrast in STATED.items():
        figures = insert_contrast(images, phantom, diameter, reference=phantom.hu)
        assert figures["reference_contrast_hu"] == pytest.approx(contrast, rel=0.02)
        low, high = figures["contrast_kept_ci"]
        assert low <= 1.0 <= high
        halved = insert_contrast(0.5 * images, phantom, diameter, reference=phantom.hu)["contrast_kept"]
        assert halved == pytest.approx(0.5 * figures["contrast_kept"])
    # The ideal observer's d' for white noise is ||signal|| / sigma; the channels can only lose.
    for diameter in (5.0, 10.0):
        site = phantom.discs(diameter)[0]
        ideal = np.sqrt((phantom.hu[_disc_pixels(phantom, site)[1] <= diameter] ** 2).sum()) / sigma
        result = detectability(observer_data_for(images, phantom, diameter), bootstrap_weights(count, 300))
        assert 0.8 * ideal <= result["d_prime"] <= 1.1 * ideal
        low, high = result["d_prime_ci"]
        assert low < ideal * 1.02 and high > 0.9 * ideal
    with pytest.raises(InputError, match="do not match"):
        ensemble_noise(images[:, :100], phantom)


def test_paired_contrast_kept_reads_what_a_method_keeps_free_of_noise():
    from ipv2.evaluate.low_contrast import paired_contrast_kept
    from ipv2.phantom.low_contrast import render_low_contrast_slice

    phantom = render_low_contrast_slice()
    discs = phantom.hu - render_low_contrast_slice(discs=False).hu
    noisy = phantom.hu[None] + np.random.default_rng(0).normal(0.0, 80.0, (3,) + phantom.hu.shape)
    without = noisy - discs
    kept = paired_contrast_kept(noisy, without, phantom, 5.0, discs)
    assert kept["contrast_kept"] == pytest.approx(1.0, abs=1e-6)
    # A method that keeps half of every disc, whatever the noise, reads 0.5.
    halved = paired_contrast_kept(noisy - 0.5 * discs, without, phantom, 3.0, discs)
    assert halved["contrast_kept"] == pytest.approx(0.5, abs=1e-6)
    assert halved["contrast_kept_ci"][0] <= 0.5 <= halved["contrast_kept_ci"][1]
