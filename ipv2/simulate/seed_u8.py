"""The authors' simulator on their 8-bit PNG slices: noisy slices min-max scaled back to 8 bits."""

from __future__ import annotations

import numpy as np

from ipv2.contract import DEFAULT_DEVICE, DEFAULT_DOSE
from ipv2.errors import InputError
from ipv2.progress import Monitor
from ipv2.simulate.lowdose import simulate_low_dose
from ipv2.simulate.settings import LowDoseSettings


def simulate_seed_u8(
    slices: np.ndarray,
    *,
    seed: int = 0,
    dose: float = DEFAULT_DOSE,
    device: str = DEFAULT_DEVICE,
    monitor: Monitor | None = None,
    projector: str = "auto",
) -> np.ndarray:
    """uint8 slices (n, H, W) or one (H, W) in, the same shape of uint8 out.

    Each slice is simulated in [0, 1] and its reconstruction min-max scaled to 0..255 and
    rounded, as the authors do before writing PNGs.
    """
    if not isinstance(slices, np.ndarray) or slices.dtype != np.uint8:
        kind = slices.dtype if isinstance(slices, np.ndarray) else type(slices).__name__
        raise InputError(f"8-bit slices: a uint8 array is needed, not {kind}")
    if slices.ndim not in (2, 3):
        raise InputError(f"8-bit slices: an (H, W) slice or an (n, H, W) stack is needed, not shape {slices.shape}")
    stack = slices[None] if slices.ndim == 2 else slices
    noisy = simulate_low_dose(
        stack.astype(np.float32) / 255.0,
        LowDoseSettings(dose=dose, mode="seed", seed=seed),
        device=device,
        monitor=monitor,
        projector=projector,
        name="8-bit slices",
    )
    lowest = noisy.min(axis=(1, 2), keepdims=True)
    span = noisy.max(axis=(1, 2), keepdims=True) - lowest
    scaled = np.where(span > 0, (noisy - lowest) / np.where(span > 0, span, 1.0) * 255.0, stack)
    result = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return result[0] if slices.ndim == 2 else result
