"""Denoising whole volumes with a classical method (BM3D, non-local means), slice by slice.

The baselines a trained network has to beat. They are the weak denoisers of IPv2's
Remove noise module (`ipv2.weak`) applied to every whole slice rather than to the lung's
box, with one noise level for the volume: the standard deviation measured in its flat
regions (`estimate_noise_sigma`) or given by the user, in HU. Nothing is learned, so no
weights are needed; both run on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.contract import CLASSICAL_DENOISERS
from ipv2.errors import InputError, require_choice
from ipv2.input_checks import require_ct
from ipv2.progress import Monitor
from ipv2.volume import Volume
from ipv2.weak import require_sigma, weak_denoise
from ipv2.weak.noise_level import slice_noise_levels

# Scanners pad outside the reconstruction circle far below air (-2048 or -3024 HU). Filtered
# as it is, the step of 2000 HU at the circle's edge would spread into both sides, so the
# denoiser sees such voxels as plain air and they are put back afterwards. Air's noise
# reaches below -1024 HU at low dose and must stay in (clipped noise would bias the air
# upwards), hence a threshold well below air: 500 HU is 2.5 sigma of the noisiest scans.
PADDING_BELOW_HU = -1500.0
AIR_HU = -1000.0

# CT noise is tens of HU at normal dose and a few hundred at the lowest; a standard deviation
# of 1000 HU, the whole air-to-tissue contrast, is a unit mistake rather than a noise level.
MAX_SIGMA_HU = 1000.0
MEASURED_SLICES = 16


@dataclass(frozen=True)
class ClassicalSpec:
    description: str
    reference: str


CLASSICAL_SPECS: dict[str, ClassicalSpec] = {
    "bm3d": ClassicalSpec(
        "BM3D: block matching and collaborative 3D filtering, slice by slice", "Dabov et al., IEEE TIP 2007"
    ),
    "nlm": ClassicalSpec(
        "non-local means, patch size set from the noise level, slice by slice", "Buades, Coll and Morel, IPOL 2011"
    ),
}


def require_classical_denoiser(method: str) -> str:
    name = str(method).lower()
    return require_choice(name, CLASSICAL_DENOISERS, "classical denoiser", shown=method)


def require_sigma_hu(sigma_hu: float) -> float:
    """A noise standard deviation in HU: finite, positive and below `MAX_SIGMA_HU`."""
    value = require_sigma(sigma_hu)
    if value >= MAX_SIGMA_HU:
        raise InputError(
            f"noise level {value:g} HU is implausible (it must be below {MAX_SIGMA_HU:g} HU, the "
            "air-to-tissue contrast); give the noise standard deviation in HU"
        )
    return value


def measure_sigma_hu(volume: Volume) -> float:
    """The volume's noise standard deviation in HU: the median over up to MEASURED_SLICES
    evenly spaced slices of the level in their flat soft tissue (`slice_noise_levels`, the
    figure the noise-conditioned networks read).

    Soft tissue, not the flattest windows anywhere: outside the body the rays cross little
    but air, so the noise there is a fraction of the body's and a denoiser set from it
    leaves most of the body's noise in place.

    Raises `InputError` when there is no flat region to measure in, or when the flat regions
    have no noise at all (a synthetic or already smoothed volume): then there is no level to
    set the denoiser from, and it has to be given.
    """
    require_ct(volume, "input volume")
    depth = volume.shape[0]
    picked = np.unique(np.linspace(0, depth - 1, min(depth, MEASURED_SLICES)).round().astype(int))
    sigma = float(np.median(slice_noise_levels(np.asarray(volume.array)[picked])))
    if not sigma > 0:
        raise InputError(
            "input volume: its flat regions have no noise (measured level 0 HU); give the noise level explicitly"
        )
    return sigma


def denoise_volume_classical(
    volume: Volume, method: str, sigma_hu: float | None = None, monitor: Monitor | None = None
) -> Volume:
    """The volume denoised by `method` (one of CLASSICAL_DENOISERS), on the input's grid, in HU.

    `sigma_hu`: the noise standard deviation in HU that sets the denoiser's strength (BM3D's
    sigma, non-local means' patch size and h = 0.8 sigma); measured with `measure_sigma_hu`
    when None. Every slice is denoised whole, one after another, reporting
    ("denoise (<method>)", done, total) to `monitor`, which raises `Cancelled` between slices
    once cancel is requested. The result's metadata records `denoised_with` (the method) and
    `noise_sigma_hu` (the level used). Voxels below `PADDING_BELOW_HU` (padding outside the
    field of view) are denoised as air (`AIR_HU`) and come out unchanged. `volume` is not
    modified.
    """
    method = require_classical_denoiser(method)
    sigma = require_sigma_hu(sigma_hu) if sigma_hu is not None else None
    require_ct(volume, "input volume")
    if sigma is None:
        sigma = measure_sigma_hu(volume)
    monitor = monitor or Monitor()
    # A BM3D slice runs in compiled code to its end (seconds for 512x512), so a cancel waits for
    # it. Waiting in a worker thread would answer sooner, but a process that exits while the
    # library is still at work aborts instead of exiting cleanly.
    # weak_denoise names its stage after IPv2's Remove noise module; here it is a denoise.
    stage = f"denoise ({method})"
    relabelled = Monitor(
        lambda _stage, done, total: monitor.step(stage, done, total), cancel_event=monitor.cancel_event
    )
    array = np.asarray(volume.array)
    padding = array < PADDING_BELOW_HU
    denoised = weak_denoise(np.where(padding, np.float32(AIR_HU), array), method, sigma_hu=sigma, monitor=relabelled)
    denoised[padding] = array[padding]
    result = volume.with_array(denoised)
    result.metadata["denoised_with"] = method
    result.metadata["noise_sigma_hu"] = float(sigma)
    return result
