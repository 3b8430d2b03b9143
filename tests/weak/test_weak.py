import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.restoration import estimate_sigma

from ipv2.errors import InputError
from ipv2.testing import chest_like
from ipv2.weak import WEAK_DENOISERS, estimate_noise_sigma, nlm_parameters, weak_denoise


def correlated_noise(shape, sigma, correlation_px, seed):
    """White noise low-passed like filtered back-projection noise, scaled to `sigma`."""
    noise = ndi.gaussian_filter(np.random.default_rng(seed).normal(size=shape), (0, correlation_px, correlation_px))
    return noise * (sigma / noise.std())


def noisy_chest(shape=(4, 64, 64), sigma=80.0, correlation_px=1.0, seed=3):
    clean = chest_like(shape, seed=seed).astype(np.float64)
    return (clean + correlated_noise(shape, sigma, correlation_px, seed)).astype(np.float32), clean


def lung_core(clean, erosion=2):
    lung = (clean > -950) & (clean < -700)
    if erosion == 0:
        return lung
    return ndi.binary_erosion(lung, structure=np.ones((1, 3, 3)), iterations=erosion)


def test_noise_estimate_is_right_on_correlated_noise_where_wavelet_estimate_is_not():
    image, _ = noisy_chest((2, 160, 160), sigma=100.0, correlation_px=1.5)
    truth = 100.0
    ours = estimate_noise_sigma(image)
    wavelet = estimate_sigma(image[0])
    assert abs(ours - truth) / truth < 0.2
    assert wavelet < truth / 4


def test_noise_estimate_inside_a_mask_measures_only_there():
    clean = chest_like((2, 128, 128), seed=1).astype(np.float64)
    lung = lung_core(clean, erosion=0)
    noise = np.where(lung, correlated_noise(clean.shape, 120.0, 1.0, 5), correlated_noise(clean.shape, 30.0, 1.0, 6))
    image = (clean + noise).astype(np.float32)
    assert estimate_noise_sigma(image, mask=lung) == pytest.approx(120.0, rel=0.2)
    assert estimate_noise_sigma(image, mask=~lung) < 60.0


def test_noise_estimate_ignores_constant_padding_outside_the_field_of_view():
    image, clean = noisy_chest((2, 160, 160), sigma=60.0, correlation_px=1.0)
    yy, xx = np.mgrid[0:160, 0:160]
    outside_circle = (yy - 79.5) ** 2 + (xx - 79.5) ** 2 > 78**2
    image[:, outside_circle] = -2048.0
    assert estimate_noise_sigma(image) == pytest.approx(60.0, rel=0.2)


def test_noise_estimate_refuses_a_region_too_small_to_measure():
    image, _ = noisy_chest()
    tiny = np.zeros(image.shape, dtype=bool)
    tiny[:, 30:33, 30:33] = True
    with pytest.raises(InputError, match="no flat region"):
        estimate_noise_sigma(image, mask=tiny)
    with pytest.raises(InputError, match="empty"):
        estimate_noise_sigma(image, mask=np.zeros(image.shape, dtype=bool))


# BM3D models white noise, so on correlated CT noise it removes the least.
@pytest.mark.parametrize("method, most_left", [("nlm", 0.6), ("tv", 0.6), ("bm3d", 0.9)])
def test_weak_denoisers_reduce_noise_in_the_lung(method, most_left):
    image, clean = noisy_chest(sigma=80.0)
    lung = lung_core(clean)
    before = np.std((image - clean)[lung])
    denoised = weak_denoise(image, method, sigma_hu=80.0, mask=lung)
    after = np.std((denoised - clean)[lung])
    assert after < most_left * before


def test_weak_denoise_leaves_everything_outside_the_mask_box_untouched():
    image, clean = noisy_chest(sigma=80.0)
    lung = lung_core(clean)
    original = image.copy()
    denoised = weak_denoise(image, "nlm", sigma_hu=80.0, mask=lung)
    np.testing.assert_array_equal(image, original)
    rows = np.flatnonzero(lung.any(axis=(0, 2)))
    above_box = slice(0, max(rows[0] - 16, 0))
    assert above_box.stop > 0
    np.testing.assert_array_equal(denoised[:, above_box], image[:, above_box])
    assert not np.array_equal(denoised[lung], image[lung])


def test_weak_denoise_measures_the_noise_when_not_given():
    image, clean = noisy_chest((2, 128, 128), sigma=80.0)
    lung = lung_core(clean)
    denoised = weak_denoise(image, "tv", mask=lung)
    assert np.std((denoised - clean)[lung]) < 0.75 * np.std((image - clean)[lung])


def test_weak_denoise_none_is_an_unchanged_copy_and_slices_work():
    image, _ = noisy_chest()
    copy = weak_denoise(image, "none")
    np.testing.assert_array_equal(copy, image)
    assert copy is not image
    single = weak_denoise(image[0], "tv", sigma_hu=80.0)
    assert single.shape == image[0].shape and single.dtype == np.float32


def test_weak_denoise_rejects_unknown_method_and_bad_sigma():
    image, _ = noisy_chest()
    with pytest.raises(InputError, match="weak denoiser 'median' is unknown"):
        weak_denoise(image, "median")
    for sigma in (0.0, -3.0, float("nan")):
        with pytest.raises(InputError, match="noise level"):
            weak_denoise(image, "nlm", sigma_hu=sigma)
    with pytest.raises(InputError, match="mask"):
        weak_denoise(image, "nlm", sigma_hu=10.0, mask=np.ones((2, 64, 64), bool))
    assert "none" in WEAK_DENOISERS


def test_nlm_patches_grow_with_the_noise_and_h_follows_sigma():
    quiet, loud = nlm_parameters(20.0), nlm_parameters(300.0)
    assert quiet.patch_size < loud.patch_size
    assert loud.h == pytest.approx(0.8 * 300.0)
    assert nlm_parameters(20.0, contrast=255.0).patch_size > quiet.patch_size
