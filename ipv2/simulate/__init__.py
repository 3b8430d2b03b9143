"""Low-dose CT simulation ("Add noise"): the authors' seed formula and a physical model in HU."""

from ipv2.simulate.lowdose import (
    FULL_DOSE_PHOTONS_PER_RAY,
    MODES,
    MU_WATER_PER_MM,
    seed_flux_fraction,
    simulate_low_dose,
)
from ipv2.simulate.seed_u8 import simulate_seed_u8
from ipv2.simulate.settings import LowDoseSettings

__all__ = [
    "FULL_DOSE_PHOTONS_PER_RAY",
    "MODES",
    "MU_WATER_PER_MM",
    "LowDoseSettings",
    "seed_flux_fraction",
    "simulate_low_dose",
    "simulate_seed_u8",
]
