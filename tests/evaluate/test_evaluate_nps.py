import numpy as np
import pytest
from scipy import ndimage

from ipv2.errors import InputError
from ipv2.evaluate import noise_power_spectrum
from ipv2.evaluate.nps import roi_corners

SPACING = (2.0, 0.5, 0.5)  # Nyquist 1 cycle/mm; 32-pixel ROIs give bins of 1/16 cycle/mm
NYQUIST = 1.0
BIN = 1.0 / 16


def _white(std=20.0, shape=(8, 128, 128), seed=0):
    return np.random.default_rng(seed).normal(0, std, shape)


def _everywhere(image):
    return np.ones(image.shape, dtype=bool)


def test_white_noise_is_flat_at_its_variance_and_parseval_holds():
    image = _white(20.0)
    result = noise_power_spectrum(image, _everywhere(image), SPACING)
    assert result["variance_hu2"] == pytest.approx(400.0, rel=0.03)
    assert result["variance_hu2"] == pytest.approx(result["roi_variance_hu2"], rel=1e-9)
    # sigma^2 dx dy at every frequency but zero, which the mean removal empties.
    curve = np.array(result["nps"])
    assert curve[0] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(curve[1:], 400.0 * 0.25, rtol=0.1)
    assert result["frequencies_cycles_per_mm"][-1] == pytest.approx(NYQUIST)
    assert result["nyquist_cycles_per_mm"] == pytest.approx(NYQUIST)
    assert result["mean_cycles_per_mm"] == pytest.approx((NYQUIST + BIN) / 2, rel=0.05)
    # Variance by radial frequency is proportional to area: pi/64, 3 pi/64, the rest of the square.
    bands = result["band_power"]
    assert bands["low"] == pytest.approx(np.pi / 64, abs=0.02)
    assert bands["mid"] == pytest.approx(3 * np.pi / 64, abs=0.02)
    assert bands["high"] == pytest.approx(1 - np.pi / 16, abs=0.02)
    assert sum(bands.values()) == pytest.approx(1.0)
    # 50 % overlapping ROIs: 7 x 7 per 128 x 128 slice.
    assert result["rois"] == 8 * 7 * 7


def test_smoothed_noise_moves_to_low_frequencies_and_a_checkerboard_to_high():
    white = _white(20.0)
    everywhere = _everywhere(white)
    reference = noise_power_spectrum(white, everywhere, SPACING)
    smooth = ndimage.gaussian_filter(white, sigma=(0, 1.5, 1.5))
    smoothed = noise_power_spectrum(smooth, everywhere, SPACING)
    assert smoothed["mean_cycles_per_mm"] < 0.5 * reference["mean_cycles_per_mm"]
    assert smoothed["peak_cycles_per_mm"] < 0.3 * NYQUIST
    assert smoothed["band_power"]["low"] > 0.5
    assert smoothed["variance_hu2"] == pytest.approx(np.mean((smooth - smooth.mean()) ** 2), rel=0.1)
    # Smooth noise on alternating pixels: its power sits at the corners of the frequency square.
    signs = (-1.0) ** np.add.outer(np.arange(128), np.arange(128))
    checkerboard = smooth * signs
    result = noise_power_spectrum(checkerboard, everywhere, SPACING)
    assert result["band_power"]["high"] > 0.95
    assert result["peak_cycles_per_mm"] > 0.8 * NYQUIST
    assert result["variance_hu2"] == pytest.approx(smoothed["variance_hu2"], rel=0.1)


def test_noise_with_a_ring_spectrum_peaks_at_the_ring():
    rng = np.random.default_rng(2)
    shape = (8, 128, 128)
    frequency = np.hypot(*np.meshgrid(np.fft.fftfreq(128, 0.5), np.fft.fftfreq(128, 0.5), indexing="ij"))
    ring = np.abs(frequency - 0.5) < 0.05
    spectrum = np.fft.fft2(rng.normal(0, 1, shape)) * ring
    image = 100.0 * np.real(np.fft.ifft2(spectrum))
    result = noise_power_spectrum(image, _everywhere(image), SPACING)
    assert result["peak_cycles_per_mm"] == pytest.approx(0.5, abs=BIN)
    assert result["mean_cycles_per_mm"] == pytest.approx(0.5, abs=0.1)
    assert result["band_power"]["high"] > 0.4 and result["band_power"]["low"] < 0.05


def test_only_rois_flat_in_the_mask_count():
    image = _white(20.0, shape=(2, 64, 64))
    flat = np.zeros(image.shape, dtype=bool)
    flat[:, :48, :48] = True
    # Grid starts 0, 16, 32: ROIs from 0 and 16 lie inside the 48 x 48 flat block, from 32 half out.
    assert sorted(map(tuple, roi_corners(flat, 32))) == [(z, y, x) for z in (0, 1) for y in (0, 16) for x in (0, 16)]
    structured = image.copy()
    structured[:, 48:, :] += 500.0 * np.sin(np.arange(64) / 3.0)
    structured[:, :, 48:] += 800.0
    result = noise_power_spectrum(structured, flat, SPACING)
    assert result["rois"] == 8
    assert result["variance_hu2"] == pytest.approx(400.0, rel=0.15)
    assert noise_power_spectrum(image, np.zeros_like(flat), SPACING) is None
    assert noise_power_spectrum(image, flat, SPACING, roi=64) is None


def test_bad_arguments_are_refused():
    image = _white(shape=(1, 32, 32))
    flat = _everywhere(image)
    with pytest.raises(InputError, match="spacing"):
        noise_power_spectrum(image, flat, (0.5, -0.5, 0.5))
    with pytest.raises(InputError, match="ROI"):
        noise_power_spectrum(image, flat, SPACING, roi=4)
    with pytest.raises(InputError, match="ROI"):
        noise_power_spectrum(image, flat, SPACING, roi=16.5)
    with pytest.raises(InputError, match="shape"):
        noise_power_spectrum(image, flat[:, :16], SPACING)
    with pytest.raises(InputError, match="volume"):
        noise_power_spectrum(image[0], flat[0], SPACING)
    with pytest.raises(InputError, match="NaN"):
        noise_power_spectrum(np.full(image.shape, np.inf), flat, SPACING)
