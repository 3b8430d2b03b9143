"""The per-scan account: noise per region at two scales, texture, and the structure check."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from ipv2.errors import InputError
from ipv2.evaluate.denoise_account import (
    EDGE_ENERGY_LIMIT,
    LESION_SCALE_MM,
    account_slices,
    denoise_account,
    edge_energy_ratios,
)
from ipv2.testing import chest_like

SPACING = (0.7, 0.7, 2.0)


def _flat_tissue(sigma, shape=(4, 160, 160), seed=0):
    """Soft tissue at 40 HU filling the slice, with white noise of `sigma`."""
    rng = np.random.default_rng(seed)
    clean = np.full(shape, 40.0, dtype=np.float32)
    return clean, (clean + rng.normal(0.0, sigma, shape)).astype(np.float32)


def test_noise_figures_match_white_noise_at_both_scales():
    clean, noisy = _flat_tissue(30.0)
    output = (clean + (noisy - clean) * 0.5).astype(np.float32)
    figures = denoise_account(noisy, output, SPACING)["regions"]["soft_tissue"]
    assert figures["noise_before_hu"] == pytest.approx(30.0, rel=0.05)
    assert figures["noise_after_hu"] == pytest.approx(15.0, rel=0.05)
    box = round(LESION_SCALE_MM / SPACING[0]) // 2 * 2 + 1
    # Box means of white noise: sigma / side; windows three boxes wide read about 0.8 of it.
    assert 0.7 * 30.0 / box < figures["lesion_noise_before_hu"] < 0.95 * 30.0 / box
    assert figures["lesion_noise_before_hu"] / figures["lesion_noise_after_hu"] == pytest.approx(2.0, rel=0.02)


def test_regions_without_tissue_in_range_have_no_figures():
    clean, noisy = _flat_tissue(10.0)
    lung = denoise_account(noisy, clean, SPACING)["regions"]["lung"]
    assert lung["voxels"] == 0 and lung["noise_before_hu"] is None


def _anatomy(seed=2):
    return np.maximum(chest_like((3, 192, 192), seed=seed), -1024.0).astype(np.float32)


def test_removing_exactly_the_noise_is_not_flagged():
    anatomy = _anatomy()
    noisy = anatomy + np.random.default_rng(1).normal(0.0, 40.0, anatomy.shape).astype(np.float32)
    check = denoise_account(noisy, anatomy, SPACING)["structure_check"]
    assert check["flagged_slices"] == [] and check["warning"] is None
    assert check["edge_energy_ratio_median"] < 2.0


def test_a_blurred_output_is_flagged_on_every_slice():
    anatomy = _anatomy()
    noisy = anatomy + np.random.default_rng(1).normal(0.0, 40.0, anatomy.shape).astype(np.float32)
    blurred = ndi.gaussian_filter(noisy, (0, 3.0, 3.0))
    check = denoise_account(noisy, blurred, SPACING)["structure_check"]
    assert check["flagged_slices"] == [0, 1, 2]
    assert "edges" in check["warning"]
    assert min(edge_energy_ratios(noisy, blurred)) > EDGE_ENERGY_LIMIT


def test_a_lighter_blur_moves_the_texture_to_lower_frequencies():
    clean, noisy = _flat_tissue(30.0)
    blurred = ndi.gaussian_filter(noisy, (0, 1.0, 1.0))
    texture = denoise_account(noisy, blurred, SPACING)["texture"]
    assert texture["ratio"] < 0.8
    same = denoise_account(noisy, noisy.copy(), SPACING)["texture"]
    assert same["ratio"] == pytest.approx(1.0)


def test_slices_are_spread_and_capped():
    assert list(account_slices(5)) == [0, 1, 2, 3, 4]
    picked = account_slices(300)
    assert len(picked) == 16 and picked[0] == 0 and picked[-1] == 299


@pytest.mark.parametrize("shapes", [((2, 8, 8), (2, 8, 9)), ((8, 8), (8, 8))])
def test_mismatched_images_are_refused(shapes):
    with pytest.raises(InputError, match="account"):
        denoise_account(np.zeros(shapes[0]), np.zeros(shapes[1]), SPACING)


def test_the_structure_check_says_how_much_the_edges_lost():
    anatomy = _anatomy()
    noisy = anatomy + np.random.default_rng(1).normal(0.0, 40.0, anatomy.shape).astype(np.float32)
    output = ndi.gaussian_filter(noisy, (0, 3.0, 3.0))
    heavy = denoise_account(noisy, output, SPACING)
    # The same output, a tenth of the loss: the same ratio, a tenth of the HU.
    light = denoise_account(output + 0.1 * (noisy - output), output, SPACING)
    assert light["structure_check"]["edge_energy_ratio_median"] == pytest.approx(
        heavy["structure_check"]["edge_energy_ratio_median"], rel=0.05
    )
    assert light["structure_check"]["edge_removed_rms_hu_median"] == pytest.approx(
        0.1 * heavy["structure_check"]["edge_removed_rms_hu_median"], rel=0.05
    )
    assert "HU RMS on those edges" in heavy["structure_check"]["warning"]


def test_an_edge_loss_below_one_stored_hu_is_not_flagged():
    anatomy = _anatomy()
    noisy = anatomy + np.random.default_rng(1).normal(0.0, 40.0, anatomy.shape).astype(np.float32)
    output = ndi.gaussian_filter(noisy, (0, 3.0, 3.0))
    rms = denoise_account(noisy, output, SPACING)["structure_check"]["edge_removed_rms_hu_median"]
    tiny = denoise_account(output + (0.5 / rms) * (noisy - output), output, SPACING)["structure_check"]
    assert tiny["edge_energy_ratio_median"] > EDGE_ENERGY_LIMIT
    assert tiny["flagged_slices"] == [] and tiny["warning"] is None
