"""LowDoseSettings: the contract's defaults, validation where built, and the one way to pass them."""

from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest

from ipv2.contract import DEFAULT_DOSE, DEFAULT_KERNEL, DEFAULT_SIMULATE_MODE
from ipv2.errors import InputError
from ipv2.simulate import LowDoseSettings, simulate_low_dose
from ipv2.testing import chest_like


def test_the_defaults_are_the_contracts():
    settings = LowDoseSettings()
    assert (settings.dose, settings.kernel, settings.mode) == (DEFAULT_DOSE, DEFAULT_KERNEL, DEFAULT_SIMULATE_MODE)
    assert settings.input_dose is None and not settings.noise_free and settings.electronic_noise


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"mode": "fancy"}, "simulation mode"),
        ({"kernel": "bone2"}, "kernel 'bone2'"),
        ({"dose": 0.0}, "dose fraction"),
        ({"input_dose": 0.01}, "input dose"),
        ({"input_dose": 1.0, "noise_free": True}, "noise-free"),
        ({"pixel_spacing_mm": -1.0}, "spacing"),
        ({"seed": True}, "seed"),
    ],
)
def test_settings_are_refused_where_built_without_a_volume(fields, words):
    with pytest.raises(InputError, match=words):
        LowDoseSettings(**fields)
    with pytest.raises(InputError, match=words):
        replace(LowDoseSettings(), **fields)


def test_settings_are_normalised_and_frozen():
    settings = LowDoseSettings(dose=1, seed=np.int32(4), pixel_spacing_mm="0.5", electronic_noise=0)
    assert type(settings.dose) is float and type(settings.seed) is int and settings.seed == 4
    assert settings.pixel_spacing_mm == 0.5 and settings.electronic_noise is False
    with pytest.raises(FrozenInstanceError):
        settings.dose = 0.5


def test_no_settings_are_the_default_settings_and_loose_keywords_are_gone():
    hu = chest_like((2, 32, 32), seed=1)
    np.testing.assert_array_equal(
        simulate_low_dose(hu, device="cpu"), simulate_low_dose(hu, LowDoseSettings(), device="cpu")
    )
    with pytest.raises(TypeError, match="LowDoseSettings"):
        simulate_low_dose(hu, {"dose": 0.5}, device="cpu")
    with pytest.raises(TypeError):
        simulate_low_dose(hu, dose=0.5, device="cpu")
