"""Reconstruction kernels: the window that shapes the ramp filter of filtered back-projection.

A scanner's kernel trades noise for sharpness. Here each kernel is a window W(f) on the
ramp |f|, with f in cycles per pixel (0 to the Nyquist frequency 0.5):

* `smooth`    Hann window reaching zero at 0.35 cycles/pixel: W = 0.5 (1 + cos(pi f / 0.35)),
              0 beyond (soft-tissue or "smooth" kernels; least noise, least detail);
* `standard`  Hann window reaching zero at Nyquist: W = 0.5 (1 + cos(2 pi f)), the authors'
              simulator and scikit-image's `filter_name="hann"`;
* `sharp`     Shepp-Logan: W = sinc(f) = sin(pi f) / (pi f), 0.64 at Nyquist;
* `lung`      the plain ramp (Ram-Lak), W = 1: the sharpest linear kernel, as lung and bone
              kernels are (most noise, finest texture).

FBP noise variance grows with the integral of (f W(f))^2, so at one dose the kernels order
smooth < standard < sharp < lung in noise.
"""

from __future__ import annotations

import numpy as np

from ipv2.contract import DEFAULT_KERNEL, KERNELS

__all__ = ["DEFAULT_KERNEL", "KERNELS", "kernel_window", "require_kernel"]

SMOOTH_CUTOFF = 0.35  # cycles per pixel where the smooth kernel's window reaches zero


def require_kernel(kernel: str) -> str:
    from ipv2.errors import require_choice

    return require_choice(kernel, KERNELS, "reconstruction kernel")


def kernel_window(frequency: np.ndarray, kernel: str) -> np.ndarray:
    """W(f) of a kernel at frequencies in cycles per pixel (|f| <= 0.5), float64."""
    f = np.abs(np.asarray(frequency, dtype=np.float64))
    if kernel == "smooth":
        return np.where(f < SMOOTH_CUTOFF, 0.5 * (1.0 + np.cos(np.pi * f / SMOOTH_CUTOFF)), 0.0)
    if kernel == "standard":
        return 0.5 * (1.0 + np.cos(2.0 * np.pi * f))
    if kernel == "sharp":
        return np.sinc(f)
    if kernel == "lung":
        return np.ones_like(f)
    raise ValueError(f"unknown kernel '{kernel}'")
