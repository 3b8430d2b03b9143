import numpy as np
import pytest
from scipy.special import ndtr

from ipv2.errors import InputError
from ipv2.evaluate.observer import (
    auc_of,
    bootstrap_weights,
    channel_outputs,
    d_prime_squared,
    dense_dog_channels,
    detectability,
    laguerre_gauss_channels,
    observer_data,
    paired_difference,
)

SIDE = 24
DIAMETER = 6.0


def _rois(rng, count, sigma, signal=None):
    noise = rng.normal(0.0, sigma, (count, SIDE, SIDE))
    return noise if signal is None else noise + signal


def _signal_in_span(channels, coefficients, target_norm):
    """A signal made of the channels themselves, scaled to a known norm."""
    signal = np.asarray(coefficients, dtype=np.float64) @ channels
    return (signal * target_norm / np.linalg.norm(signal)).reshape(SIDE, SIDE)


def _data(channels, signal, sigma, count, seed):
    rng = np.random.default_rng(seed)
    present = channel_outputs(_rois(rng, count, sigma, signal), channels)
    absent = channel_outputs(_rois(rng, count, sigma), channels)
    return observer_data(present, absent)


@pytest.mark.parametrize("make_channels", [laguerre_gauss_channels, dense_dog_channels])
def test_white_noise_and_a_signal_in_the_channels_span_give_d_prime_norm_over_sigma(make_channels):
    channels = make_channels(SIDE, DIAMETER)
    sigma = 20.0
    signal = _signal_in_span(channels, [1.0, -0.5, 0.3] + [0.0] * (len(channels) - 3), target_norm=1.5 * sigma)
    truth = np.linalg.norm(signal) / sigma
    result = detectability(_data(channels, signal, sigma, count=1500, seed=1), bootstrap_weights(3000, 500, seed=2))
    assert result["d_prime"] == pytest.approx(truth, abs=0.12)
    low, high = result["d_prime_ci"]
    assert low < truth < high
    assert high - low < 0.4
    assert result["auc"] == pytest.approx(float(ndtr(truth / np.sqrt(2.0))), abs=0.03)
    assert result["present_rois"] == result["absent_rois"] == 1500


def test_auc_matches_the_empirical_auc_of_the_hotelling_scores():
    channels = laguerre_gauss_channels(SIDE, DIAMETER)
    sigma = 10.0
    signal = _signal_in_span(channels, [1.0] + [0.0] * (len(channels) - 1), target_norm=1.2 * sigma)
    rng = np.random.default_rng(5)
    # The ideal template for white noise is the signal itself.
    present = (_rois(rng, 4000, sigma, signal) * signal).sum(axis=(1, 2))
    absent = (_rois(rng, 4000, sigma) * signal).sum(axis=(1, 2))
    empirical = np.mean(present[:, None] > absent[None, :])
    assert float(auc_of(1.2)) == pytest.approx(empirical, abs=0.02)


def test_signal_absent_against_signal_absent_scatters_about_zero_with_an_interval_covering_it():
    channels = laguerre_gauss_channels(SIDE, DIAMETER)
    for seed in range(3):
        result = detectability(_data(channels, None, 15.0, count=400, seed=seed), bootstrap_weights(800, 400, seed))
        low, high = result["d_prime_ci"]
        assert low <= 0.0 <= high
        assert abs(result["d_prime"]) < 0.25


def test_the_bias_correction_removes_the_upward_bias_of_the_plug_in_estimate():
    channels = laguerre_gauss_channels(SIDE, DIAMETER)  # 8 channels
    sigma = 10.0
    signal = _signal_in_span(channels, [1.0, 0.4] + [0.0] * (len(channels) - 2), target_norm=sigma)  # d'^2 = 1
    count, p = 60, len(channels)
    estimates = np.array([d_prime_squared(_data(channels, signal, sigma, count, seed))[0] for seed in range(80)])
    n = 2 * count
    plug_in = (estimates + p * (2.0 / count)) * (n - 2.0) / (n - p - 3.0)
    assert estimates.mean() == pytest.approx(1.0, abs=0.15)
    assert plug_in.mean() > 1.25


def test_the_interval_covers_the_truth_at_about_the_nominal_rate():
    channels = laguerre_gauss_channels(SIDE, DIAMETER, count=4)
    sigma = 10.0
    signal = _signal_in_span(channels, [1.0, 0.5, 0.0, 0.0], target_norm=sigma)
    repeats, count = 60, 150
    covered = 0
    for seed in range(repeats):
        result = detectability(
            _data(channels, signal, sigma, count, seed=100 + seed), bootstrap_weights(2 * count, 300, seed=seed)
        )
        low, high = result["d_prime_ci"]
        covered += low <= 1.0 <= high
    # 95 % nominal; 60 repeats put a correct interval above 0.85 nearly always.
    assert 0.85 <= covered / repeats <= 1.0


def test_paired_difference_is_zero_for_the_same_images_and_positive_for_less_noise():
    channels = laguerre_gauss_channels(SIDE, DIAMETER)
    signal = _signal_in_span(channels, [1.0] + [0.0] * (len(channels) - 1), target_norm=10.0)
    rng = np.random.default_rng(9)
    noise_present = rng.normal(0.0, 10.0, (300, SIDE, SIDE))
    noise_absent = rng.normal(0.0, 10.0, (300, SIDE, SIDE))
    realisation = np.arange(300)

    def data(scale):
        return observer_data(
            channel_outputs(signal + scale * noise_present, channels),
            channel_outputs(scale * noise_absent, channels),
            realisation,
            realisation,
        )

    weights = bootstrap_weights(300, 500, seed=1)
    same = paired_difference(data(1.0), data(1.0), weights)
    assert same["difference"] == 0.0 and same["difference_ci"] == [0.0, 0.0]
    quieter = paired_difference(data(0.5), data(1.0), weights)
    # d' doubles (1 -> 2) when the noise halves on the same realisations.
    assert quieter["difference"] == pytest.approx(1.0, abs=0.2)
    assert quieter["difference_ci"][0] > 0.5


def test_rois_of_one_realisation_are_resampled_together():
    channels = laguerre_gauss_channels(SIDE, DIAMETER, count=4)
    signal = _signal_in_span(channels, [1.0, 0.0, 0.0, 0.0], target_norm=10.0)
    rng = np.random.default_rng(3)
    # Four ROIs per image sharing that image's offset: they are not independent draws.
    images = 200
    offsets = np.repeat(rng.normal(0.0, 10.0, images), 4)[:, None, None] * signal / np.linalg.norm(signal)
    present = channel_outputs(signal + offsets + rng.normal(0.0, 10.0, (4 * images, SIDE, SIDE)), channels)
    absent = channel_outputs(offsets + rng.normal(0.0, 10.0, (4 * images, SIDE, SIDE)), channels)
    per_image = np.repeat(np.arange(images), 4)
    grouped = detectability(observer_data(present, absent, per_image, per_image), bootstrap_weights(images, 400, 1))
    apart = detectability(observer_data(present, absent), bootstrap_weights(8 * images, 400, 1))
    assert grouped["d_prime"] == pytest.approx(apart["d_prime"])
    # The shared offset cancels in each image's present-minus-absent difference only when
    # the pairs are drawn together; the intervals must differ accordingly.

    def width(result):
        return result["d_prime_ci"][1] - result["d_prime_ci"][0]

    assert width(grouped) != pytest.approx(width(apart), rel=0.05)


def test_channels_are_centred_unit_norm_and_rotationally_symmetric():
    for make in (laguerre_gauss_channels, dense_dog_channels):
        channels = make(SIDE + 1, DIAMETER)
        assert np.allclose(np.linalg.norm(channels, axis=1), 1.0)
        images = channels.reshape(len(channels), SIDE + 1, SIDE + 1)
        assert np.allclose(images, np.rot90(images, axes=(1, 2)), atol=1e-12)
        assert np.allclose(images, images[:, ::-1, :], atol=1e-12)
        assert np.linalg.matrix_rank(channels) == len(channels)


def test_inputs_are_checked():
    channels = laguerre_gauss_channels(SIDE, DIAMETER)
    with pytest.raises(InputError, match="too few"):
        observer_data(np.zeros((4, 8)), np.zeros((4, 8)))
    with pytest.raises(InputError, match="same p"):
        observer_data(np.zeros((40, 8)), np.zeros((40, 6)))
    with pytest.raises(InputError, match="both classes"):
        observer_data(np.zeros((40, 8)), np.zeros((40, 8)), present_realisation=np.arange(40))
    with pytest.raises(InputError, match="do not match"):
        channel_outputs(np.zeros((3, SIDE, SIDE + 1)), channels)
    with pytest.raises(InputError, match="NaN"):
        channel_outputs(np.full((3, SIDE, SIDE), np.nan), channels)
    with pytest.raises(InputError, match="confidence"):
        detectability(_data(channels, None, 1.0, 50, 0), confidence=1.5)
    with pytest.raises(InputError, match="ROI of at least"):
        laguerre_gauss_channels(2, DIAMETER)
