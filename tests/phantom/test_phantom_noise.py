"""The phantom pair through the low-dose simulator and the purification masks."""

import numpy as np
import pytest
from scipy import ndimage

from ipv2.phantom import (
    LABEL_AIRWAY,
    LABEL_BACKGROUND,
    LABEL_LUNG,
    TISSUES,
    Acquisition,
    PhantomOptions,
    generate_phantom_pair,
)

DOSE = 0.02


def _uniform_soft_tissue(pair) -> np.ndarray:
    """The inside of the heart and liver where both breathing states hold them: uniform soft
    tissue, so that the difference to the clean volume is noise, not misregistration."""
    ids = [TISSUES["myocardium"].id, TISSUES["liver"].id]
    soft = np.isin(pair.tissues.array, ids) & np.isin(pair.ndct_tissues.array, ids)
    return ndimage.binary_erosion(soft, structure=np.ones((1, 5, 5), bool))


def _noise_ratio(pair) -> float:
    region = _uniform_soft_tissue(pair)
    assert region.sum() > 200
    uldct_noise = (pair.uldct.array - pair.truth.array)[region].std()
    ndct_noise = (pair.ndct.array - pair.ndct_clean.array)[region].std()
    return float(uldct_noise / ndct_noise)


@pytest.fixture(scope="module")
def photon_noise_pair():
    return generate_phantom_pair(
        Acquisition.resolve(128, 8), PhantomOptions(seed=1, dose=DOSE, electronic_noise=False), device="cpu"
    )


def test_uldct_noise_is_sqrt_inverse_dose_times_ndct_noise(photon_noise_pair):
    expected = np.sqrt(1.0 / DOSE)
    assert _noise_ratio(photon_noise_pair) == pytest.approx(expected, rel=0.25)


def test_electronic_noise_adds_to_the_low_dose_scan(photon_noise_pair):
    with_electronic = generate_phantom_pair(
        Acquisition.resolve(128, 8), PhantomOptions(seed=1, dose=DOSE, electronic_noise=True), device="cpu"
    )
    assert _noise_ratio(with_electronic) > np.sqrt(1.0 / DOSE)


def test_noisy_pair_is_deterministic():
    a = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(seed=9), device="cpu")
    b = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(seed=9), device="cpu")
    c = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(seed=10), device="cpu")
    assert np.array_equal(a.uldct.array, b.uldct.array) and np.array_equal(a.ndct.array, b.ndct.array)
    assert not np.array_equal(a.uldct.array, c.uldct.array)


def test_the_two_scans_have_independent_noise(photon_noise_pair):
    pair = photon_noise_pair
    region = _uniform_soft_tissue(pair)
    ndct_noise = (pair.ndct.array - pair.ndct_clean.array)[region]
    uldct_noise = (pair.uldct.array - pair.truth.array)[region]
    assert abs(np.corrcoef(ndct_noise, uldct_noise)[0, 1]) < 0.2


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


@pytest.mark.parametrize("fov_padding", [False, True])
def test_purification_masks_agree_with_the_true_labels(fov_padding):
    masks_module = pytest.importorskip("ipv2.masks")
    pair = generate_phantom_pair(
        Acquisition.resolve(128, 8), PhantomOptions(seed=2, fov_padding=fov_padding), device="cpu"
    )
    masks = masks_module.compute_region_masks(pair.uldct, pair.ndct, spacing=pair.truth.spacing)
    labels = pair.labels.array
    assert _dice(masks.background, labels == LABEL_BACKGROUND) >= 0.95
    # The method's lung mask holds the air spaces inside the patient: parenchyma and airways.
    assert _dice(masks.lung, np.isin(labels, [LABEL_LUNG, LABEL_AIRWAY])) >= 0.9


def test_truth_is_the_noise_free_scan_so_the_uldct_differs_from_it_by_noise_alone(photon_noise_pair):
    pair = photon_noise_pair
    lung = pair.labels.array == 2
    residual = (pair.uldct.array - pair.truth.array)[lung]
    assert abs(float(residual.mean())) < 0.1 * float(residual.std())
    # The scanner blurs the object: the noise-free scan is not the anatomy itself.
    assert float(np.abs(pair.truth.array - pair.anatomy.array)[lung].mean()) > 1.0
    # Its lung still reads as lung parenchyma.
    assert -900 < float(np.median(pair.truth.array[lung])) < -700
