import numpy as np
import pytest

from ipv2.errors import InputError
from ipv2.simulate import LowDoseSettings, simulate_low_dose
from ipv2.testing import chest_like


@pytest.mark.parametrize("mode", ["physical", "seed"])
def test_noise_free_scan_ignores_the_seed_and_is_the_mean_of_noisy_scans(mode):
    clean = chest_like((6, 64, 64))
    reference = simulate_low_dose(clean, LowDoseSettings(mode=mode, dose=0.2, seed=1, noise_free=True), device="cpu")
    assert np.array_equal(
        reference, simulate_low_dose(clean, LowDoseSettings(mode=mode, dose=0.2, seed=2, noise_free=True), device="cpu")
    )
    noisy = simulate_low_dose(clean, LowDoseSettings(mode=mode, dose=0.2, seed=3), device="cpu")
    residual = noisy - reference
    # Noise only: zero mean (up to the log's small bias) and far smaller than the image's own contrast.
    assert abs(float(residual.mean())) < 0.1 * float(residual.std())
    assert float(residual.std()) > 1.0
    assert float(np.abs(reference - clean).mean()) < float(np.abs(noisy - clean).mean())


def test_noise_free_scan_of_an_already_noisy_input_is_refused():
    with pytest.raises(InputError, match="noise-free"):
        simulate_low_dose(chest_like((2, 32, 32)), LowDoseSettings(input_dose=1.0, noise_free=True), device="cpu")
