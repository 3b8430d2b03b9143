"""The strength control: a dose multiple, the share of noise it keeps, and the recombination."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from ipv2 import contract
from ipv2.denoise.inference import denoise_volume, neighbour_slices
from ipv2.denoise.strength import (
    BOUNDARY_BLEND_MM,
    DEFAULT_STRENGTH,
    RESTORED_SCALE_MM,
    STRENGTH_RANGE,
    STRENGTHS,
    dose_multiple,
    kept_noise_fraction,
    recombine,
    regional_kept_fraction,
    slab_restore_source,
    slab_share,
)
from ipv2.errors import InputError
from ipv2.models.normalization import Normalization
from ipv2.testing import chest_like
from ipv2.volume import Volume

HU = Normalization.for_kind("hu")
SPACING_MM = 0.7


@pytest.mark.parametrize(
    "text, multiple",
    [("low", 2.0), ("MEDIUM", 8.0), (" high ", 32.0), ("3", 3.0), (None, 8.0), (1, 1.0), (100.0, 100.0)],
)
def test_names_and_numbers_are_dose_multiples(text, multiple):
    assert dose_multiple(text) == pytest.approx(multiple)


@pytest.mark.parametrize("bad", ["strong", "0.5", 0.99, 101, float("nan"), "inf"])
def test_bad_strengths_are_refused_with_the_range(bad):
    with pytest.raises(InputError, match="strength"):
        dose_multiple(bad)


def test_every_named_level_has_a_dose_multiple_and_the_default_is_one_of_them():
    assert tuple(STRENGTHS) == contract.STRENGTHS
    assert DEFAULT_STRENGTH in STRENGTHS
    assert all(STRENGTH_RANGE[0] <= multiple <= STRENGTH_RANGE[1] for multiple in STRENGTHS.values())


def test_a_scan_at_n_times_the_dose_keeps_one_over_root_n_of_the_noise():
    assert kept_noise_fraction("medium") == pytest.approx(0.5**1.5)
    assert kept_noise_fraction(9) == pytest.approx(1 / 3)
    levels = [kept_noise_fraction(name) for name in ("low", "medium", "high")]
    assert levels == sorted(levels, reverse=True)


def _flat_noisy(shape=(2, 96, 96), sigma=60.0, seed=0):
    rng = np.random.default_rng(seed)
    clean = np.full(shape, 40.0, dtype=np.float32)
    return clean, (clean + rng.normal(0.0, sigma, shape)).astype(np.float32)


@pytest.mark.parametrize("strength", ["low", "medium", "high", 25.0])
def test_with_a_perfect_estimate_the_fine_noise_left_is_the_kept_fraction(strength):
    clean, noisy = _flat_noisy()
    result = recombine(noisy, clean.copy(), HU, kept_noise_fraction(strength), SPACING_MM)
    sigma_px = RESTORED_SCALE_MM / SPACING_MM

    def fine(image):
        return image - ndi.gaussian_filter(image, (0, sigma_px, sigma_px), mode="nearest")

    ratio = fine(result - clean).std() / fine(noisy - clean).std()
    # the fine part of the restored band adds a little: about 0.02 of the input's fine noise
    assert ratio == pytest.approx(kept_noise_fraction(strength), abs=0.03)


def test_strength_one_gives_the_input_back():
    clean, noisy = _flat_noisy()
    np.testing.assert_allclose(recombine(noisy, clean, HU, kept_noise_fraction(1.0), SPACING_MM), noisy, atol=1e-3)


def test_what_the_estimate_took_at_large_scales_is_put_back():
    clean, noisy = _flat_noisy(sigma=1.0)
    darker = clean - 15.0  # an estimate that shifted the region's mean, as a biased network does
    result = recombine(noisy, darker, HU, kept_noise_fraction("high"), SPACING_MM)
    inner = (slice(None), slice(20, -20), slice(20, -20))
    assert abs(float(result[inner].mean() - noisy[inner].mean())) < 0.5


def test_padding_and_values_above_the_window_keep_the_input_values():
    clean, noisy = _flat_noisy()
    noisy[:, :8, :] = -3024.0  # a scanner's fill outside the field of view
    metal = 3000.0 + np.arange(16, dtype=np.float32).reshape(4, 4)
    noisy[:, 40:44, 40:44] = metal
    clean[:, 40:44, 40:44] = metal
    estimate = np.clip(clean, HU.low, HU.high)  # the network sees the metal clipped to the window's top
    result = recombine(noisy, estimate, HU, kept_noise_fraction("high"), SPACING_MM)
    np.testing.assert_array_equal(result[:, :8, :], noisy[:, :8, :])
    np.testing.assert_allclose(result[:, 40:44, 40:44], noisy[:, 40:44, 40:44], atol=30.0)


def test_noise_below_the_window_is_noise_not_padding():
    rng = np.random.default_rng(1)
    lung = np.full((1, 96, 96), -900.0, dtype=np.float32)
    noisy = (lung + rng.normal(0.0, 200.0, lung.shape)).astype(np.float32)
    assert (noisy < HU.low).mean() > 0.2
    result = recombine(noisy, lung.copy(), HU, kept_noise_fraction("high"), SPACING_MM)
    assert float((result - lung).std()) < 0.5 * float((noisy - lung).std())


def test_the_input_arrays_are_not_modified():
    clean, noisy = _flat_noisy()
    before_noisy, before_estimate = noisy.copy(), clean.copy()
    recombine(noisy, clean, HU, 0.5, SPACING_MM)
    np.testing.assert_array_equal(noisy, before_noisy)
    np.testing.assert_array_equal(clean, before_estimate)


def test_a_bad_pixel_spacing_is_refused():
    clean, noisy = _flat_noisy()
    with pytest.raises(InputError, match="pixel spacing"):
        recombine(noisy, clean, HU, 0.5, 0.0)


def _two_regions(depth=2, size=160):
    """A lung field on the left half of a flat slice: one tissue, two strengths."""
    field = np.zeros((depth, size, size), dtype=bool)
    field[:, :, : size // 2] = True
    return field


def test_region_kept_fractions_are_each_regions_away_from_the_border():
    field = _two_regions()
    kept = regional_kept_fraction(field, "low", "high", SPACING_MM)
    assert kept[0, 80, 5] == pytest.approx(kept_noise_fraction("low"), abs=1e-4)
    assert kept[0, 80, -5] == pytest.approx(kept_noise_fraction("high"), abs=1e-4)


def test_the_region_blend_has_no_seam():
    field = _two_regions(depth=24)
    clean, noisy = _flat_noisy(shape=field.shape, sigma=80.0, seed=3)
    kept = regional_kept_fraction(field, "low", "high", SPACING_MM)
    result = recombine(noisy, clean.copy(), HU, kept, SPACING_MM)
    error = result - clean
    # Column by column over many rows and slices: the mean is flat and the noise changes
    # smoothly from one region's level to the other's, without a step at the border.
    mean_profile = error.mean(axis=(0, 1))
    noise_profile = error.std(axis=(0, 1))
    samples = error.shape[0] * error.shape[1]
    assert np.abs(mean_profile).max() < 5 * 80.0 / np.sqrt(samples)
    border = field.shape[2] // 2
    blend_px = BOUNDARY_BLEND_MM / SPACING_MM
    steps = np.abs(np.diff(noise_profile))
    assert steps[border - 2 : border + 2].max() < 0.25 * (noise_profile[5] - noise_profile[-5])
    assert noise_profile[int(border - 4 * blend_px)] == pytest.approx(noise_profile[5], rel=0.1)
    assert noise_profile[int(border + 4 * blend_px)] == pytest.approx(noise_profile[-5], rel=0.1)


def test_denoise_volume_takes_region_strengths_and_a_given_lung_field():
    from ipv2.models import build_model
    from ipv2.models.checkpoint import LoadedModel

    volume = Volume(chest_like((2, 48, 48)), spacing=(0.7, 0.7, 2.0))
    loaded = LoadedModel(
        model=build_model("unet", widths=[4, 8]).eval(),
        architecture="unet",
        arch_args={"widths": [4, 8]},
        normalization=HU,
    )
    field = np.zeros(volume.shape, dtype=bool)
    field[:, 10:30, 10:30] = True
    result = denoise_volume(
        volume, model=loaded, device="cpu", lung_strength="low", body_strength="high", lung_field=field
    )
    assert (result.metadata["lung_strength"], result.metadata["body_strength"]) == (2.0, 32.0)
    with pytest.raises(InputError, match="lung field's shape"):
        denoise_volume(volume, model=loaded, device="cpu", lung_strength="low", lung_field=field[:1])
    with pytest.raises(InputError, match="region-aware"):
        denoise_volume(volume, model=loaded, device="cpu", lung_field=field)
    with pytest.raises(InputError, match="strength"):
        denoise_volume(volume, model=loaded, device="cpu", body_strength="strongest", lung_field=field)


def test_neighbour_slices_repeat_the_end_slices_as_a_model_reads_them():
    levels = np.arange(4, dtype=np.float32)[:, None, None] * np.ones((4, 2, 2), np.float32)
    neighbours = neighbour_slices(levels, 1, 0, 4)
    np.testing.assert_array_equal(neighbours[:, :, 0, 0], [[0, 0, 1, 2], [1, 2, 3, 3]])
    np.testing.assert_array_equal(neighbour_slices(levels, 2, 1, 2)[:, 0, 0, 0], [0, 0, 2, 3])


def _rod_slab(seed=4, sigma=60.0):
    """A faint 10 mm rod through three slices, each with its own noise, and the rod alone."""
    _, noisy = _flat_noisy(shape=(3, 128, 128), sigma=sigma, seed=seed)
    yy, xx = np.mgrid[:128, :128]
    rod = (20.0 * ((yy - 64) ** 2 + (xx - 64) ** 2 <= (5.0 / SPACING_MM) ** 2)).astype(np.float32)
    return noisy + rod, np.full((3, 128, 128), 40.0, np.float32) + rod


def test_the_band_restored_from_a_slab_averages_its_noise_down_and_keeps_a_rod():
    noisy, rod_only = _rod_slab()
    estimate = np.full((1, 128, 128), 40.0, np.float32)
    from_centre = recombine(noisy[1:2], estimate, HU, 0.0, SPACING_MM)
    source = slab_restore_source(noisy[1:2], noisy[[0, 2]][:, None], SPACING_MM, kept=0.0)
    np.testing.assert_allclose(
        recombine(noisy[1:2], estimate, HU, 0.0, SPACING_MM, restored_from=noisy[1:2]), from_centre
    )
    from_slab = recombine(noisy[1:2], estimate, HU, 0.0, SPACING_MM, restored_from=source)
    # The restored band's noise falls towards the square root of the slab's depth ...
    away = (slice(None), slice(0, 40), slice(0, 128))
    ratio = np.std(from_centre[away]) / np.std(from_slab[away])
    assert 1.3 < ratio < 1.8
    # ... and a rod through the slab comes back exactly as from its own slice.
    rod_source = slab_restore_source(rod_only[1:2], rod_only[[0, 2]][:, None], SPACING_MM)
    np.testing.assert_array_equal(rod_source, rod_only[1:2])
    with pytest.raises(InputError, match="restored band"):
        recombine(noisy[1:2], estimate, HU, 0.0, SPACING_MM, restored_from=noisy)


def test_anatomy_that_changes_along_z_is_restored_from_its_own_slice():
    noisy, _ = _rod_slab(seed=5, sigma=20.0)
    neighbours = noisy[[0, 2]].copy()
    neighbours[:, 20:60, 20:60] += 300.0  # a structure in the neighbours only: anatomy, not noise
    source = slab_restore_source(noisy[1:2], neighbours[:, None], SPACING_MM)
    inside = (slice(None), slice(30, 50), slice(30, 50))
    assert np.abs(source[inside] - noisy[1:2][inside]).mean() < 5.0
    assert np.abs(source[:, 80:, 80:] - noisy[1:2, 80:, 80:]).mean() > 3.0  # elsewhere the slab is averaged


@pytest.mark.parametrize("multiple", [1.0, 1.5, 2.0, 3.0, 8.0])
def test_the_slab_share_gives_the_band_the_noise_of_the_dose_multiple_as_far_as_the_slab_allows(multiple):
    rng = np.random.default_rng(2)
    slices = rng.standard_normal((3, 200_000)).astype(np.float32)
    share = slab_share(kept_noise_fraction(multiple), 3)
    mixed = slices[1] + share * ((slices[0] - slices[1]) + (slices[2] - slices[1])) / 3
    assert np.std(mixed) == pytest.approx(max(1 / np.sqrt(multiple), 1 / np.sqrt(3)), rel=0.01)


def test_strength_one_leaves_a_2p5d_models_input_unchanged():
    noisy, _ = _rod_slab()
    estimate = np.full((1, 128, 128), 40.0, np.float32)
    source = slab_restore_source(noisy[1:2], noisy[[0, 2]][:, None], SPACING_MM, kept=1.0)
    np.testing.assert_array_equal(source, noisy[1:2])
    result = recombine(noisy[1:2], estimate, HU, 1.0, SPACING_MM, restored_from=source)
    np.testing.assert_allclose(result, noisy[1:2], atol=1e-3)
