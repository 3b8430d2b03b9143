import numpy as np
import pytest
from scipy.special import ndtr

from ipv2.errors import InputError
from ipv2.evaluate.ttf import disc_ttf

PIXEL_MM = 0.5
RADIUS_PX = 20.0
SIZE = 96
CENTRE = (47.3, 48.6)  # off the pixel grid, so the ESF's samples fall at every sub-pixel distance


def _blurred_disc(sigma_mm, contrast=50.0, centre=CENTRE):
    """A disc whose edge is blurred by a Gaussian of sigma_mm, sampled at pixel centres."""
    y, x = np.mgrid[:SIZE, :SIZE]
    distance = np.hypot(y - centre[0], x - centre[1])
    return contrast * ndtr((RADIUS_PX - distance) * PIXEL_MM / sigma_mm)


def _analytic(frequencies, sigma_mm):
    return np.exp(-2.0 * np.pi**2 * sigma_mm**2 * np.asarray(frequencies) ** 2)


@pytest.mark.parametrize("sigma_mm", [0.5, 0.8, 1.2])
def test_a_gaussian_blurred_disc_gives_the_gaussian_ttf(sigma_mm):
    result = disc_ttf(_blurred_disc(sigma_mm), [CENTRE], RADIUS_PX, PIXEL_MM)
    frequencies = np.array(result["frequencies_cycles_per_mm"])
    ttf = np.array(result["ttf"])
    truth = _analytic(frequencies, sigma_mm)
    np.testing.assert_allclose(ttf[truth > 0.05], truth[truth > 0.05], atol=0.02)
    f50 = np.sqrt(np.log(2.0) / 2.0) / (np.pi * sigma_mm)
    f10 = np.sqrt(np.log(10.0) / 2.0) / (np.pi * sigma_mm)
    assert result["f50_cycles_per_mm"] == pytest.approx(f50, rel=0.03)
    assert result["f10_cycles_per_mm"] == pytest.approx(f10, rel=0.03)
    assert result["contrast_hu"] == pytest.approx(50.0, rel=0.01)
    assert result["frequencies_cycles_per_mm"][-1] <= 1.0 / (2 * PIXEL_MM)


def test_more_blur_lowers_f50_and_a_dark_disc_reads_like_a_bright_one():
    sharp = disc_ttf(_blurred_disc(0.5), [CENTRE], RADIUS_PX, PIXEL_MM)["f50_cycles_per_mm"]
    soft = disc_ttf(_blurred_disc(1.0), [CENTRE], RADIUS_PX, PIXEL_MM)["f50_cycles_per_mm"]
    assert soft == pytest.approx(sharp / 2.0, rel=0.05)
    dark = disc_ttf(_blurred_disc(0.5, contrast=-30.0), [CENTRE], RADIUS_PX, PIXEL_MM)
    assert dark["f50_cycles_per_mm"] == pytest.approx(sharp, rel=1e-6)
    assert dark["contrast_hu"] == pytest.approx(-30.0, rel=0.01)


def test_noisy_copies_average_to_the_noise_free_ttf_and_the_cnr_criterion_is_reported():
    rng = np.random.default_rng(0)
    sigma_mm, noise = 0.8, 20.0
    images = _blurred_disc(sigma_mm) + rng.normal(0.0, noise, (300, SIZE, SIZE))
    result = disc_ttf(images, [CENTRE], RADIUS_PX, PIXEL_MM, noise_hu=noise)
    f50 = np.sqrt(np.log(2.0) / 2.0) / (np.pi * sigma_mm)
    assert result["f50_cycles_per_mm"] == pytest.approx(f50, rel=0.08)
    assert result["copies"] == 300
    assert result["cnr_total"] == pytest.approx(50.0 / noise * np.sqrt(300), rel=0.02)
    assert result["reliable"] is True
    few = disc_ttf(images[:3], [CENTRE], RADIUS_PX, PIXEL_MM, noise_hu=noise)
    assert few["reliable"] is False


def test_several_centres_are_pooled_and_inputs_are_checked():
    both = _blurred_disc(0.8) + _blurred_disc(0.8, centre=(47.3, 48.6))
    two = disc_ttf(np.stack([_blurred_disc(0.8)] * 2), [CENTRE, CENTRE], RADIUS_PX, PIXEL_MM)
    assert two["copies"] == 4
    assert disc_ttf(both, [CENTRE], RADIUS_PX, PIXEL_MM)["contrast_hu"] == pytest.approx(100.0, rel=0.01)
    with pytest.raises(InputError, match="outside the image"):
        disc_ttf(_blurred_disc(0.8), [(10.0, 10.0)], RADIUS_PX, PIXEL_MM)
    with pytest.raises(InputError, match="finite"):
        disc_ttf(np.full((SIZE, SIZE), np.nan), [CENTRE], RADIUS_PX, PIXEL_MM)
    with pytest.raises(InputError, match="positive"):
        disc_ttf(_blurred_disc(0.8), [CENTRE], -1.0, PIXEL_MM)
