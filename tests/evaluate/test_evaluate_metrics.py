import numpy as np
import pytest

from ipv2.evaluate import flat_region_noise, metrics


def test_rmse_and_mae_of_a_hand_computed_difference():
    reference = np.zeros(4)
    prediction = np.array([1.0, -1.0, 2.0, -2.0])
    assert metrics.rmse(prediction, reference) == pytest.approx(np.sqrt(10 / 4))
    assert metrics.mae(prediction, reference) == pytest.approx(1.5)


def test_psnr_is_twenty_log_of_range_over_rmse():
    reference = np.zeros((2, 16, 16))
    prediction = reference + 20.0
    assert metrics.psnr(prediction, reference, data_range=2000.0) == pytest.approx(40.0)
    assert metrics.psnr(prediction, reference, data_range=200.0) == pytest.approx(20.0)
    assert metrics.psnr(reference, reference) == float("inf")


def test_ssim_of_two_flat_images_matches_the_formula():
    # Flat images: no variance or covariance, so SSIM is the luminance term alone.
    a, b, data_range = 100.0, 300.0, 2000.0
    c1 = (0.01 * data_range) ** 2
    expected = (2 * a * b + c1) / (a * a + b * b + c1)
    value = metrics.ssim(np.full((2, 24, 24), a), np.full((2, 24, 24), b), data_range)
    assert value == pytest.approx(expected, rel=1e-9)


def test_ssim_of_an_image_with_itself_is_one_and_drops_with_noise():
    rng = np.random.default_rng(0)
    image = rng.normal(0, 100, (2, 32, 32))
    assert metrics.ssim(image, image) == pytest.approx(1.0)
    assert metrics.ssim(image + rng.normal(0, 100, image.shape), image) < 0.9


def test_region_figures_ignore_voxels_outside_their_mask():
    rng = np.random.default_rng(1)
    reference = rng.normal(0, 50, (2, 48, 48))
    prediction = reference + rng.normal(0, 10, reference.shape)
    mask = np.zeros(reference.shape, dtype=bool)
    mask[:, 16:32, 16:32] = True
    changed = prediction.copy()
    changed[~mask] += 500.0
    for metric in (metrics.rmse, metrics.mae, metrics.psnr):
        assert metric(changed, reference, mask=mask) == metric(prediction, reference, mask=mask)
        assert metric(changed, reference) != metric(prediction, reference)
    # SSIM windows (11x11) reach 5 pixels beyond the mask; changes farther away leave it unchanged.
    far = prediction.copy()
    far[:, :8, :] += 500.0
    assert metrics.ssim(far, reference, mask=mask) == metrics.ssim(prediction, reference, mask=mask)
    assert metrics.ssim(far, reference) != metrics.ssim(prediction, reference)


def test_empty_mask_gives_nan_not_an_error():
    image = np.zeros((1, 16, 16))
    assert np.isnan(metrics.rmse(image, image, mask=np.zeros(image.shape, dtype=bool)))


def test_ssim_refuses_slices_smaller_than_its_window():
    with pytest.raises(ValueError, match="SSIM window"):
        metrics.ssim_map(np.zeros((1, 8, 8)), np.zeros((1, 8, 8)))


def test_noise_std_recovers_the_noise_of_flat_tissue_and_skips_vessels():
    rng = np.random.default_rng(2)
    clean = np.full((3, 64, 64), -850.0)
    clean[:, :, ::8] = -100.0  # vessel-like lines through the "lung"
    noisy = clean + rng.normal(0, 40, clean.shape)
    region = np.ones(clean.shape, dtype=bool)
    flat = flat_region_noise.uniform_mask(
        clean, region, flat_region_noise.UniformRegion("lung", (-1000.0, -600.0), 0.3)
    )
    assert flat.any() and not flat[:, :, ::8].any()
    assert flat_region_noise.noise_std(noisy, flat) == pytest.approx(40.0, rel=0.06)
    # Over the whole region the lines inflate the spread far above the noise.
    assert flat_region_noise.noise_std(noisy, region & (clean > -2000)) > 100.0


def test_noise_std_needs_enough_flat_voxels():
    image = np.zeros((1, 32, 32))
    mask = np.zeros(image.shape, dtype=bool)
    mask[0, :3, :3] = True
    assert np.isnan(flat_region_noise.noise_std(image, mask))
