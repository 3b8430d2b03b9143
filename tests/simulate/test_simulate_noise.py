"""The simulator's noise against photon statistics, and the seed mode against the authors' path."""

import numpy as np
import pytest
from skimage.transform import radon
from skimage.transform.radon_transform import _get_fourier_filter

from ipv2.simulate import FULL_DOSE_PHOTONS_PER_RAY, MU_WATER_PER_MM, LowDoseSettings, simulate_low_dose
from ipv2.simulate.geometry import ParallelBeamGeometry
from ipv2.simulate.lowdose import ELECTRONIC_NOISE_PHOTONS
from ipv2.simulate.reference import authors_seed_slice
from ipv2.testing import chest_like

SIZE = 64
SPACING_MM = 2.0
DISK_RADIUS_PX = 22
SLICES = 128
OFFSETS = np.arange(-3, 4)
ROWS, COLS = [a.ravel() + SIZE // 2 for a in np.meshgrid(OFFSETS, OFFSETS, indexing="ij")]


def water_disk_volume() -> np.ndarray:
    yy, xx = np.mgrid[:SIZE, :SIZE] - SIZE // 2
    disk = np.where(yy**2 + xx**2 <= DISK_RADIUS_PX**2, 0.0, -1000.0).astype(np.float32)
    return np.repeat(disk[None], SLICES, axis=0)


def predicted_variance_hu(dose: float, electronic_photons: float) -> float:
    """Variance at the ROI pixels from Poisson (+ Gaussian) counts, propagated through the FBP.

    Line integral noise var(p) = 1/N + s^2/N^2 with N = photons * exp(-p); the FBP is linear,
    so each pixel's variance is sum over rays of var(p) times the squared weight of that ray
    (the Hann-ramp kernel, linearly interpolated at the pixel's detector position, scaled by
    pi / (2 * angles)). Everything here comes from scikit-image's geometry and filter.
    """
    geometry = ParallelBeamGeometry.like_authors(SIZE)
    mu = np.where(water_disk_volume()[0] > -500, MU_WATER_PER_MM, 0.0)
    line_integrals = radon(mu, np.rad2deg(geometry.angles_rad), circle=True) * SPACING_MM
    counts = dose * FULL_DOSE_PHOTONS_PER_RAY * np.exp(-line_integrals)
    ray_variance = (1.0 / counts + electronic_photons**2 / counts**2).T  # (angles, detectors)
    length = geometry.filter_length
    kernel = np.real(np.fft.ifft(_get_fourier_filter(length, "hann")[:, 0]))
    before = geometry.filter_input_centre - geometry.detector_centre
    filtered_bins = np.arange(geometry.filter_input_count)[:, None]
    detectors = np.arange(geometry.detector_count)[None, :]
    weights = kernel[(filtered_bins - detectors - before) % length]
    variances = []
    for row, col in zip(ROWS, COLS):
        position = (
            (col - SIZE // 2) * np.cos(geometry.angles_rad)
            - (row - SIZE // 2) * np.sin(geometry.angles_rad)
            + geometry.filter_input_centre
        )
        lower = np.floor(position).astype(int)
        frac = (position - lower)[:, None]
        ray_weights = (1 - frac) * weights[lower] + frac * weights[lower + 1]
        variances.append(np.sum(ray_weights**2 * ray_variance))
    hu_per_unit = 1000.0 / (MU_WATER_PER_MM * SPACING_MM)
    return float(np.mean(variances)) * geometry.fbp_scale**2 * hu_per_unit**2


def measured_std_hu(noisy: np.ndarray) -> float:
    # Every slice is the same disk with its own noise: the spread across slices is the noise.
    return float(np.sqrt(noisy[:, ROWS, COLS].var(axis=0, ddof=1).mean()))


@pytest.mark.parametrize("projector, dose", [("nufft", 0.05), ("nufft", 0.0125), ("direct", 0.05)])
def test_physical_noise_matches_poisson_prediction(projector, dose):
    noisy = simulate_low_dose(
        water_disk_volume(),
        LowDoseSettings(dose=dose, pixel_spacing_mm=SPACING_MM, electronic_noise=False, seed=3),
        projector=projector,
    )
    predicted = np.sqrt(predicted_variance_hu(dose, 0.0))
    assert measured_std_hu(noisy) == pytest.approx(predicted, rel=0.08)
    # Noise, not bias: water stays water on average.
    assert abs(noisy[:, ROWS, COLS].mean()) < 0.2 * predicted


def test_physical_noise_scales_as_inverse_square_root_of_dose():
    volume = water_disk_volume()
    stds = {
        dose: measured_std_hu(
            simulate_low_dose(
                volume, LowDoseSettings(dose=dose, pixel_spacing_mm=SPACING_MM, electronic_noise=False, seed=5)
            )
        )
        for dose in (0.08, 0.02)
    }
    assert stds[0.02] / stds[0.08] == pytest.approx(2.0, rel=0.08)


def test_electronic_noise_adds_its_variance_at_low_counts():
    volume = water_disk_volume()
    dose = 0.002  # about 370 photons behind the disk centre: read-out noise matters
    with_electronic = measured_std_hu(
        simulate_low_dose(volume, LowDoseSettings(dose=dose, pixel_spacing_mm=SPACING_MM, seed=7))
    )
    predicted_with = np.sqrt(predicted_variance_hu(dose, ELECTRONIC_NOISE_PHOTONS))
    predicted_without = np.sqrt(predicted_variance_hu(dose, 0.0))
    assert predicted_with > 1.1 * predicted_without
    assert with_electronic == pytest.approx(predicted_with, rel=0.06)


def test_noise_insertion_on_a_noisy_input_reaches_the_target_noise():
    volume = water_disk_volume()
    input_dose, target = 0.025, 0.02
    scanned = simulate_low_dose(
        volume, LowDoseSettings(dose=input_dose, pixel_spacing_mm=SPACING_MM, seed=11, electronic_noise=False)
    )
    inserted = simulate_low_dose(
        scanned,
        LowDoseSettings(
            dose=target, input_dose=input_dose, pixel_spacing_mm=SPACING_MM, seed=12, electronic_noise=False
        ),
    )
    assumed_clean = simulate_low_dose(
        scanned, LowDoseSettings(dose=target, pixel_spacing_mm=SPACING_MM, seed=12, electronic_noise=False)
    )
    predicted = np.sqrt(predicted_variance_hu(target, 0.0))
    assert measured_std_hu(inserted) == pytest.approx(predicted, rel=0.08)
    # Treating the noisy input as clean stacks both noises (about 17% more here); insertion does not.
    assert measured_std_hu(assumed_clean) > 1.08 * measured_std_hu(inserted)


@pytest.mark.filterwarnings("ignore:Radon transform")
def test_seed_mode_has_the_statistics_of_the_authors_path():
    hu = chest_like((12, 64, 64), seed=2)
    ours = simulate_low_dose(hu, LowDoseSettings(mode="seed", seed=1))
    rng = np.random.default_rng(0)
    reference = []
    for image in hu.astype(np.float64):
        lowest, highest = image.min(), image.max()
        noisy = authors_seed_slice((image - lowest) / (highest - lowest), rng)
        reference.append(noisy * (highest - lowest) + lowest)
    reference = np.array(reference)
    inside = ~ParallelBeamGeometry.like_authors(64).outside_circle
    body = inside & (hu[0] > -500)
    lung = inside & (hu[0] < -500) & (hu[0] > -900)
    for region in (body, lung):
        reference_noise = np.std(reference[:, region] - hu[:, region])
        assert ours[:, region].mean() == pytest.approx(reference[:, region].mean(), abs=0.1 * reference_noise)
        assert np.std(ours[:, region] - hu[:, region]) == pytest.approx(reference_noise, rel=0.08)
    # Outside the reconstruction circle both paths give the slice minimum.
    np.testing.assert_allclose(
        ours[:, ~inside], np.broadcast_to(hu.min(axis=(1, 2))[:, None], ours[:, ~inside].shape), atol=1e-3
    )
