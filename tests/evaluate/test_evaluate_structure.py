import numpy as np
import pytest
from scipy import ndimage

from ipv2.errors import InputError
from ipv2.evaluate import contrast_retention
from ipv2.evaluate.structure import select_structures

SPACING = (2.0, 0.7, 0.7)


def _discs(background_hu, contrast_hu, radius_mm=1.5, shape=(6, 160, 160), pitch=16):
    """A flat image with a grid of small discs `contrast_hu` above it, and the discs' mask."""
    _, rows, columns = shape
    yy, xx = np.mgrid[0:rows, 0:columns]
    inside = np.zeros((rows, columns), dtype=bool)
    for cy in range(pitch, rows - pitch // 2, pitch):
        for cx in range(pitch, columns - pitch // 2, pitch):
            inside |= ((yy - cy) * SPACING[1]) ** 2 + ((xx - cx) * SPACING[2]) ** 2 <= radius_mm**2
    discs = np.repeat(inside[None], shape[0], axis=0)
    return np.where(discs, background_hu + contrast_hu, background_hu).astype(np.float64), discs


def _grown(mask):
    return ndimage.binary_dilation(mask, structure=np.ones((1, 3, 3), dtype=bool))


@pytest.mark.parametrize(
    "kind, background_hu, contrast_hu, noise_hu",
    [
        ("lung_vessels", -850.0, 600.0, 60.0),
        ("soft_tissue", -50.0, 120.0, 20.0),
    ],
)
def test_retention_is_the_share_of_the_discs_contrast_kept(kind, background_hu, contrast_hu, noise_hu):
    reference, discs = _discs(background_hu, contrast_hu)
    region = np.ones(reference.shape, dtype=bool)
    assert contrast_retention(reference, reference, region, SPACING, kind) == pytest.approx(1.0)
    half = background_hu + 0.5 * (reference - background_hu)
    assert contrast_retention(half, reference, region, SPACING, kind) == pytest.approx(0.5)
    # A constant offset is no loss of contrast.
    assert contrast_retention(reference + 25.0, reference, region, SPACING, kind) == pytest.approx(1.0)
    # Noise alone neither adds contrast nor takes it away; blurring takes it away.
    noisy = reference + np.random.default_rng(0).normal(0, noise_hu, reference.shape)
    assert contrast_retention(noisy, reference, region, SPACING, kind) == pytest.approx(1.0, abs=0.1)
    blurred = ndimage.gaussian_filter(reference, sigma=(0, 2.0, 2.0))
    assert contrast_retention(blurred, reference, region, SPACING, kind) < 0.7
    # Every disc pixel is found, and not the rim that the smoothing blurs around it.
    selection = select_structures(reference, region, SPACING, kind)
    np.testing.assert_array_equal(selection.structure, discs)


def test_a_noisy_reference_still_finds_its_structures():
    reference, discs = _discs(-850.0, 600.0)
    region = np.ones(reference.shape, dtype=bool)
    noisy_reference = reference + np.random.default_rng(1).normal(0, 50, reference.shape)
    selection = select_structures(noisy_reference, region, SPACING, "lung_vessels")
    assert (selection.structure & discs).sum() > 0.8 * discs.sum()
    assert (selection.structure & ~_grown(discs)).sum() < 0.01 * discs.sum()
    retention = contrast_retention(reference, noisy_reference, region, SPACING, "lung_vessels")
    assert retention == pytest.approx(1.0, abs=0.1)


def test_vessels_are_found_in_the_holes_of_a_lung_mask_thresholded_on_air():
    reference, discs = _discs(-850.0, 600.0)
    lung_mask = ~discs  # vessels are not air: purify's lung mask has holes there
    half = -850.0 + 0.5 * (reference + 850.0)
    assert contrast_retention(half, reference, lung_mask, SPACING, "lung_vessels") == pytest.approx(0.5)
    assert select_structures(reference, lung_mask, SPACING, "lung_vessels").pixels > 0.9 * discs.sum()


def test_large_structures_outside_the_region_and_bone_do_not_count():
    reference, discs = _discs(-50.0, 120.0)
    region = np.ones(reference.shape, dtype=bool)
    # Wider than the top-hat disc: not a small structure.
    wide, _ = _discs(-50.0, 120.0, radius_mm=6.0, pitch=40)
    assert contrast_retention(wide, wide, region, SPACING, "soft_tissue") is None
    assert contrast_retention(reference, reference, np.zeros_like(region), SPACING, "soft_tissue") is None
    faint, _ = _discs(-50.0, 60.0)  # a structure for soft tissue, below the 100 HU of a lung vessel
    assert contrast_retention(faint, faint, region, SPACING, "lung_vessels") is None
    assert contrast_retention(faint, faint, region, SPACING, "soft_tissue") == pytest.approx(1.0)
    # A rib-like bright spot (outside the soft-tissue window) and its surroundings are left out:
    # flattening it changes nothing.
    with_bone = reference.copy()
    with_bone[:, 70:76, 70:76] = 900.0
    without_bone = reference.copy()
    without_bone[:, 70:76, 70:76] = -50.0
    assert contrast_retention(without_bone, with_bone, region, SPACING, "soft_tissue") == pytest.approx(1.0)


def test_bad_arguments_are_refused():
    reference, _ = _discs(-850.0, 600.0)
    region = np.ones(reference.shape, dtype=bool)
    with pytest.raises(InputError, match="kind"):
        contrast_retention(reference, reference, region, SPACING, "bones")
    with pytest.raises(InputError, match="spacing"):
        contrast_retention(reference, reference, region, (0.7, 0.7), "lung_vessels")
    with pytest.raises(InputError, match="prediction"):
        contrast_retention(reference[:, :-1], reference, region, SPACING, "lung_vessels")
    with pytest.raises(InputError, match="region"):
        contrast_retention(reference, reference, region[:1], SPACING, "lung_vessels")
    with pytest.raises(InputError, match="NaN"):
        contrast_retention(np.where(region, np.nan, reference), reference, region, SPACING, "lung_vessels")
