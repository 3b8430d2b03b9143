"""Reconstruction kernels of the physical simulator: noise level, noise insertion, sharpness."""

import numpy as np
import pytest

from ipv2.errors import InputError
from ipv2.simulate import LowDoseSettings, simulate_low_dose
from ipv2.simulate.geometry import relative_noise_variance
from ipv2.simulate.kernels import KERNELS

SIZE, SLICES, SPACING, DOSE = 128, 6, 1.0, 0.05


@pytest.fixture(scope="module")
def water_cylinder():
    offsets = np.arange(SIZE) - SIZE / 2
    radius2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    hu = np.where(radius2 < (0.4 * SIZE) ** 2, 0.0, -1000.0).astype(np.float32)
    centre = radius2 < (0.15 * SIZE) ** 2
    return np.repeat(hu[None], SLICES, axis=0), centre


def _noise(hu, kernel, **options):
    noisy = simulate_low_dose(
        hu, LowDoseSettings(dose=DOSE, pixel_spacing_mm=SPACING, seed=3, kernel=kernel, **options), device="cpu"
    )
    return noisy


@pytest.fixture(scope="module")
def noise_std(water_cylinder):
    hu, centre = water_cylinder
    figures = {}
    for kernel in KERNELS:
        clean = _noise(hu, kernel, noise_free=True)
        figures[kernel] = float((_noise(hu, kernel) - clean)[:, centre].std())
    return figures


@pytest.mark.parametrize("kernel", KERNELS)
def test_noise_variance_follows_the_kernel_filter(noise_std, kernel):
    measured = (noise_std[kernel] / noise_std["standard"]) ** 2
    assert measured == pytest.approx(relative_noise_variance(kernel), rel=0.1)


def test_kernels_order_by_noise(noise_std):
    ordered = [noise_std[kernel] for kernel in ("smooth", "standard", "sharp", "lung")]
    assert ordered == sorted(ordered)
    assert ordered[-1] > 2 * ordered[0]


@pytest.mark.parametrize("kernel", KERNELS)
def test_noise_insertion_adds_the_missing_noise_of_each_kernel(water_cylinder, noise_std, kernel):
    hu, centre = water_cylinder
    inserted = _noise(hu, kernel, input_dose=1.0) - hu
    # A scan at dose d has variance 1/d of the full dose; the full-dose share is already there.
    expected = noise_std[kernel] * np.sqrt(1.0 - DOSE)
    assert float(inserted[:, centre].std()) == pytest.approx(expected, rel=0.1)
    assert abs(float(inserted[:, centre].mean())) < 0.2 * expected


@pytest.mark.parametrize("kernel", KERNELS)
def test_kernels_keep_water_at_zero_hu(water_cylinder, kernel):
    hu, centre = water_cylinder
    clean = _noise(hu, kernel, noise_free=True)
    assert abs(float(clean[:, centre].mean())) < 3.0


def test_sharper_kernels_keep_sharper_edges():
    hu = np.full((1, SIZE, SIZE), -1000.0, dtype=np.float32)
    hu[:, 24:104, 24:64] = 0.0
    hu[:, 24:104, 64:104] = 1000.0
    profiles = {kernel: _noise(hu, kernel, noise_free=True)[0, 64, 56:72] for kernel in ("smooth", "lung")}
    # The largest step between neighbours across the 0 -> 1000 HU edge: a sharper edge steps more.
    steps = {kernel: float(np.max(np.diff(profile))) for kernel, profile in profiles.items()}
    assert steps["lung"] > 1.5 * steps["smooth"]


def test_unknown_kernel_is_refused(water_cylinder):
    with pytest.raises(InputError, match="kernel 'bone2'"):
        simulate_low_dose(water_cylinder[0], LowDoseSettings(dose=DOSE, kernel="bone2"))
