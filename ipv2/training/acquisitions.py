"""Training pairs from real normal-dose anatomy under varied simulated acquisitions.

A denoiser meets scans of every dose, kernel and pixel size; trained on one, it fails on
the others. Each pair here is one normal-dose slice seen through a randomly drawn
`Acquisition`:

1. resampled in-plane to the acquisition's pixel spacing (linear interpolation; air and
   scanner padding below -1024 HU are set to -1024 first, so the padding edge does not
   smear into the image);
2. dose 1 (identity): input = target = the resampled slice, so a clean scan learns to come
   back unchanged;
3. `standard` kernel (that of the source scans): noise insertion, input = slice + the noise
   missing between full dose and the acquisition's dose (`simulate_low_dose` with
   `input_dose=1`), target = the slice itself;
4. another kernel: input = the full low-dose reconstruction with that kernel, target = its
   noise-free reconstruction (same projection and filter, no noise), so the network learns
   to remove noise, not to change the kernel.

Both are clipped to SCANNER_RANGE_HU, the range scanners store (12 bits from -1024 HU): at 1%
dose with a sharp kernel photon starvation swings the reconstruction thousands of HU below
air, which no scan on disk holds.

Doses are drawn log-uniformly in DOSE_RANGE, a fraction IDENTITY_FRACTION of the pairs at
full dose; kernels uniformly from KERNELS; spacing uniformly from SPACINGS_MM; electronic
noise on or off with equal chance. Everything is a pure function of the seed.

A scan's noise is not always FBP's: iterative and deep-learning reconstructions leave a
blotchier texture, and some scans carry noise that is nearly white. A share of the pairs
(`texture_fractions`, drawn from a stream of their own so that the other draws stay as they
were) can keep the FBP noise's level per slice but change its texture: `white` replaces it
by white noise of the same standard deviation in the body, `blotchy` by the noise low-passed
with a Gaussian of BLOTCHY_SIGMA_MM and scaled back to its standard deviation. The default,
TEXTURE_FRACTIONS, is FBP noise alone: with 15% white and 15% blotchy pairs the 2.5D U-Net
reduced white and coarse-grained noise on the held-out chest no more (2.6x and 1.1-1.4x
either way, `benchmarks/bench_unseen_noise.py`) and its lung RMSE against the truth was
1-2 HU worse at 2% and 10% dose.

For a 2.5D model (`context_slices` k > 0) each pair is a slab of 2k + 1 slices under one
acquisition, each slice with its own noise, as a scanner gives them; the slab's centre is the
slice the model learns to denoise. Scans come with slices 1 to 5 mm apart, and a model that
has only seen close slices takes distant neighbours for the same anatomy and blurs it along
z: each pair draws a slice spacing from SLICE_SPACINGS_MM (a stream of its own again), and
the slab takes every n-th slice of a source whose slice spacing is known, n the nearest
whole multiple (at least 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy import ndimage as ndi

from ipv2.errors import InputError
from ipv2.progress import Monitor
from ipv2.simulate import LowDoseSettings, simulate_low_dose
from ipv2.simulate.kernels import DEFAULT_KERNEL, KERNELS

DOSE_RANGE = (0.01, 0.5)
IDENTITY_FRACTION = 0.15
SPACINGS_MM = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
AIR_HU = -1024.0
SCANNER_RANGE_HU = (-1024.0, 3071.0)
# Slices with less body than this (HU above -500) hold too little anatomy to learn from.
MIN_BODY_FRACTION = 0.1
BODY_HU = -500.0
TEXTURE_FRACTIONS = {"fbp": 1.0, "white": 0.0, "blotchy": 0.0}
BLOTCHY_SIGMA_MM = 0.8
SLICE_SPACINGS_MM = (1.0, 1.25, 2.0, 2.5, 3.0, 4.0, 5.0)


@dataclass(frozen=True)
class Acquisition:
    dose: float  # fraction of the source's dose; 1 is the source itself
    kernel: str
    spacing_mm: float
    electronic_noise: bool
    texture: str = "fbp"  # a key of TEXTURE_FRACTIONS
    slice_mm: float | None = None  # the slab's slice spacing aimed at (2.5D pairs)

    def to_dict(self) -> dict:
        return asdict(self)


def draw_acquisitions(
    count: int,
    seed: int,
    identity_fraction: float = IDENTITY_FRACTION,
    dose_range: tuple[float, float] = DOSE_RANGE,
    spacings_mm: Sequence[float] = SPACINGS_MM,
    texture_fractions: dict[str, float] | None = None,
) -> list[Acquisition]:
    """`count` acquisitions drawn as the module docstring states; `texture_fractions` (default
    TEXTURE_FRACTIONS) gives each noise texture's share."""
    if count < 1:
        raise InputError(f"acquisition count {count} must be at least 1")
    low, high = dose_range
    if not (0 < low <= high <= 1):
        raise InputError(f"dose range {dose_range} must lie in (0, 1]")
    fractions = dict(TEXTURE_FRACTIONS if texture_fractions is None else texture_fractions)
    unknown = sorted(set(fractions) - set(TEXTURE_FRACTIONS))
    if unknown or not np.isclose(sum(fractions.values()), 1.0) or min(fractions.values()) < 0:
        raise InputError(f"texture fractions {fractions} must be shares of {sorted(TEXTURE_FRACTIONS)} summing to 1")
    rng = np.random.default_rng([seed, 0xAC9])
    texture_rng = np.random.default_rng([seed, 0x7E7])
    slice_rng = np.random.default_rng([seed, 0x511CE])
    textures, shares = list(fractions), list(fractions.values())
    draws = []
    for _ in range(count):
        identity = rng.random() < identity_fraction
        dose = 1.0 if identity else float(math.exp(rng.uniform(math.log(low), math.log(high))))
        kernel = KERNELS[int(rng.integers(len(KERNELS)))]
        spacing = float(spacings_mm[int(rng.integers(len(spacings_mm)))])
        texture = textures[int(texture_rng.choice(len(textures), p=shares))]
        slice_mm = float(SLICE_SPACINGS_MM[int(slice_rng.integers(len(SLICE_SPACINGS_MM)))])
        draws.append(Acquisition(round(dose, 4), kernel, spacing, bool(rng.random() < 0.5), texture, slice_mm))
    return draws


def body_slices(hu: np.ndarray) -> np.ndarray:
    """Indices of the slices of a (z, y, x) volume that hold enough of the body."""
    fraction = np.mean(hu > -500, axis=(1, 2))
    return np.flatnonzero(fraction >= MIN_BODY_FRACTION)


def resample_in_plane(hu: np.ndarray, spacing_mm: float, target_mm: float) -> np.ndarray:
    """(z, y, x) slices resampled from one square pixel spacing to another, air-floored."""
    floored = np.maximum(hu.astype(np.float32, copy=False), AIR_HU)
    factor = spacing_mm / target_mm
    if abs(factor - 1.0) < 1e-3:
        return floored.copy()
    return ndi.zoom(floored, (1.0, factor, factor), order=1, mode="nearest", grid_mode=True).astype(np.float32)


def acquire(
    slices_hu: np.ndarray, spacing_mm: float, acquisition: Acquisition, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(input, target) float32 (z, y', x') of normal-dose slices under one acquisition."""
    resampled = np.clip(resample_in_plane(slices_hu, spacing_mm, acquisition.spacing_mm), *SCANNER_RANGE_HU)
    if acquisition.dose >= 1.0:
        return resampled, resampled.copy()
    scanner = LowDoseSettings(
        dose=acquisition.dose,
        pixel_spacing_mm=acquisition.spacing_mm,
        seed=seed,
        electronic_noise=acquisition.electronic_noise,
        kernel=acquisition.kernel,
    )
    if acquisition.kernel == DEFAULT_KERNEL:
        noisy, clean = simulate_low_dose(resampled, replace(scanner, input_dose=1.0), device="cpu"), resampled
    else:
        noisy = simulate_low_dose(resampled, scanner, device="cpu")
        clean = simulate_low_dose(resampled, replace(scanner, noise_free=True), device="cpu")
    if acquisition.texture != "fbp":
        noisy = clean + retextured_noise(noisy - clean, clean, acquisition, seed)
    return np.clip(noisy, *SCANNER_RANGE_HU), np.clip(clean, *SCANNER_RANGE_HU)


def retextured_noise(noise: np.ndarray, clean: np.ndarray, acquisition: Acquisition, seed: int) -> np.ndarray:
    """FBP `noise` (z, y, x) given the acquisition's texture at each slice's standard
    deviation in the body (HU above BODY_HU in `clean`)."""
    if acquisition.texture not in TEXTURE_FRACTIONS:
        raise InputError(f"noise texture {acquisition.texture!r} is not one of {sorted(TEXTURE_FRACTIONS)}")
    if acquisition.texture == "fbp":
        return noise
    if acquisition.texture == "white":
        shaped = np.random.default_rng([seed, 0x3417E]).standard_normal(noise.shape).astype(np.float32)
    else:
        sigma_px = BLOTCHY_SIGMA_MM / acquisition.spacing_mm
        shaped = ndi.gaussian_filter(noise.astype(np.float32), (0, sigma_px, sigma_px))
    for index in range(noise.shape[0]):
        body = clean[index] > BODY_HU
        region = body if body.sum() > 100 else np.ones_like(body)
        wanted, given = float(noise[index][region].std()), float(shaped[index][region].std())
        shaped[index] *= wanted / given if given > 0 else 0.0
    return shaped


@dataclass
class AcquiredSlices:
    """Pairs of one source volume and spacing: inputs and targets (z, y, x), each slice's acquisition."""

    volume: str
    spacing_mm: float
    inputs: np.ndarray  # (pairs * slab_depth, y, x): the slabs one after another
    targets: np.ndarray
    acquisitions: list[Acquisition]  # one per slab
    sources: list[str]  # "volume:centre slice", one per slab
    slab_depth: int = 1

    def slabs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(inputs, targets) of each slab, (slab_depth, y, x) each."""
        depth = self.slab_depth
        return [
            (self.inputs[start : start + depth], self.targets[start : start + depth])
            for start in range(0, self.inputs.shape[0], depth)
        ]


def slab_stride(acquisition: Acquisition, source_slice_mm: float | None) -> int:
    """Every how many source slices a 2.5D pair's slab takes its neighbours."""
    if acquisition.slice_mm is None or not source_slice_mm or source_slice_mm <= 0:
        return 1
    return max(1, int(round(acquisition.slice_mm / source_slice_mm)))


def acquired_pairs(
    volumes: Sequence[tuple],
    count: int,
    seed: int,
    monitor: Monitor | None = None,
    context_slices: int = 0,
) -> list[AcquiredSlices]:
    """`count` pairs from (name, (z, y, x) HU, pixel spacing mm[, slice spacing mm]) volumes,
    grouped by volume and spacing.

    Slice, volume and acquisition of pair i are drawn from (seed, i); each group holds the
    pairs of one volume at one spacing in the order drawn, so groups can be written as volumes.
    With `context_slices` k each pair is the slab of slices z - kn, .., z, .., z + kn around the
    drawn slice z, n the pair's `slab_stride` (repeated at the volume's ends); its source reads
    "volume:z" or, where n > 1, "volume:z/n".
    """
    monitor = monitor or Monitor()
    candidates = [
        (item[0], item[1], item[2], body_slices(item[1]), item[3] if len(item) > 3 else None) for item in volumes
    ]
    candidates = [item for item in candidates if item[3].size]
    if not candidates:
        raise InputError("no volume holds a slice with enough body to train on")
    acquisitions = draw_acquisitions(count, seed)
    rng = np.random.default_rng([seed, 0x51CE])
    # (volume, spacing) -> the drawn inputs, targets, acquisitions and sources
    groups: dict[tuple[str, float], tuple[list[np.ndarray], list[np.ndarray], list[Acquisition], list[str]]] = {}
    monitor.step("acquire", 0, count)
    for index, acquisition in enumerate(acquisitions):
        name, hu, spacing, usable, slice_mm = candidates[int(rng.integers(len(candidates)))]
        z = int(usable[int(rng.integers(usable.size))])
        stride = slab_stride(acquisition, slice_mm) if context_slices else 1
        slab = np.clip(z + stride * np.arange(-context_slices, context_slices + 1), 0, len(hu) - 1)
        noisy, clean = acquire(hu[slab], spacing, acquisition, seed=seed * 100003 + index)
        group = groups.setdefault((name, acquisition.spacing_mm), ([], [], [], []))
        group[0].extend(noisy)
        group[1].extend(clean)
        group[2].append(acquisition)
        group[3].append(f"{name}:{z}" + (f"/{stride}" if stride > 1 else ""))
        monitor.step("acquire", index + 1, count)
    return [
        AcquiredSlices(name, spacing, np.stack(i), np.stack(t), a, s, 2 * context_slices + 1)
        for (name, spacing), (i, t, a, s) in sorted(groups.items())
    ]
