"""The strength control: a dose multiple, the share of noise it keeps, and the recombination."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from ipv2 import contract
from ipv2.errors import InputError
from ipv2.models.normalization import Normalization
from ipv2.strength import (DEFAULT_STRENGTH, RESTORED_SCALE_MM, STRENGTHS, STRENGTH_RANGE, dose_multiple,
                           kept_noise_fraction, recombine)

HU = Normalization.for_kind("hu")
SPACING_MM = 0.7


@pytest.mark.parametrize("text, multiple", [("low", 2.0), ("MEDIUM", 4.0), (" high ", 10.0), ("3", 3.0),
                                            (None, 4.0), (1, 1.0), (100.0, 100.0)])
def test_names_and_numbers_are_dose_multiples(text, multiple):
    assert dose_multiple(text) == pytest.approx(multiple)


@pytest.mark.parametrize("bad", ["strong", "0.5", 0.99, 101, float("nan"), "inf"])
def test_bad_strengths_are_refused_with_the_range(bad):
    with pytest.raises(InputError, match="strength"):
        dose_multiple(bad)


def test_the_panels_contract_restates_the_same_levels():
    assert contract.STRENGTHS == tuple(STRENGTHS)
    assert contract.DEFAULT_STRENGTH == DEFAULT_STRENGTH
    assert contract.STRENGTH_RANGE == STRENGTH_RANGE


def test_a_scan_at_n_times_the_dose_keeps_one_over_root_n_of_the_noise():
    assert kept_noise_fraction("medium") == pytest.approx(0.5)
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
    result = recombine(noisy, clean.copy(), HU, strength, SPACING_MM)
    sigma_px = RESTORED_SCALE_MM / SPACING_MM
    fine = lambda image: image - ndi.gaussian_filter(image, (0, sigma_px, sigma_px), mode="nearest")
    ratio = fine(result - clean).std() / fine(noisy - clean).std()
    assert ratio == pytest.approx(kept_noise_fraction(strength), rel=0.02)


def test_strength_one_gives_the_input_back():
    clean, noisy = _flat_noisy()
    np.testing.assert_allclose(recombine(noisy, clean, HU, 1.0, SPACING_MM), noisy, atol=1e-3)


def test_what_the_estimate_took_at_large_scales_is_put_back():
    clean, noisy = _flat_noisy(sigma=1.0)
    darker = clean - 15.0  # an estimate that shifted the region's mean, as a biased network does
    result = recombine(noisy, darker, HU, "high", SPACING_MM)
    inner = (slice(None), slice(20, -20), slice(20, -20))
    assert abs(float(result[inner].mean() - noisy[inner].mean())) < 0.5


def test_padding_and_values_above_the_window_keep_the_input_values():
    clean, noisy = _flat_noisy()
    noisy[:, :8, :] = -3024.0  # a scanner's fill outside the field of view
    metal = 3000.0 + np.arange(16, dtype=np.float32).reshape(4, 4)
    noisy[:, 40:44, 40:44] = metal
    clean[:, 40:44, 40:44] = metal
    estimate = np.clip(clean, HU.low, HU.high)  # the network sees the metal clipped to the window's top
    result = recombine(noisy, estimate, HU, "high", SPACING_MM)
    np.testing.assert_array_equal(result[:, :8, :], noisy[:, :8, :])
    np.testing.assert_allclose(result[:, 40:44, 40:44], noisy[:, 40:44, 40:44], atol=30.0)


def test_noise_below_the_window_is_noise_not_padding():
    rng = np.random.default_rng(1)
    lung = np.full((1, 96, 96), -900.0, dtype=np.float32)
    noisy = (lung + rng.normal(0.0, 200.0, lung.shape)).astype(np.float32)
    assert (noisy < HU.low).mean() > 0.2
    result = recombine(noisy, lung.copy(), HU, "high", SPACING_MM)
    assert float((result - lung).std()) < 0.5 * float((noisy - lung).std())


def test_the_input_arrays_are_not_modified():
    clean, noisy = _flat_noisy()
    before_noisy, before_estimate = noisy.copy(), clean.copy()
    recombine(noisy, clean, HU, "medium", SPACING_MM)
    np.testing.assert_array_equal(noisy, before_noisy)
    np.testing.assert_array_equal(clean, before_estimate)


def test_a_bad_pixel_spacing_is_refused():
    clean, noisy = _flat_noisy()
    with pytest.raises(InputError, match="pixel spacing"):
        recombine(noisy, clean, HU, "medium", 0.0)
