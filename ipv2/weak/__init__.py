"""Remove noise (IPv2 module 3): weak denoisers and noise-level measurement for the label."""

from ipv2.weak.denoisers import (
    DEFAULT_WEAK_DENOISER,
    WEAK_DENOISERS,
    nlm_parameters,
    require_sigma,
    require_weak_denoiser,
    weak_denoise,
)
from ipv2.weak.noise_level import estimate_noise_sigma

__all__ = [
    "DEFAULT_WEAK_DENOISER",
    "WEAK_DENOISERS",
    "estimate_noise_sigma",
    "nlm_parameters",
    "require_sigma",
    "require_weak_denoiser",
    "weak_denoise",
]
