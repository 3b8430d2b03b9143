"""Low-dose CT simulation of whole volumes, slice by slice in batches.

Two modes:

* `seed`, the authors' formula: each slice min-max normalised to [0, 1], projected with
  max(H, W) angles, line integrals / 500, expected counts k * I0 * exp(-p) with
  I0 = 200 mAs * 1000 photons/mAs and k = 0.015 * mAs + 0.1002 (mAs = dose * 125, so 2% is
  2.5 mAs), Poisson plus Gaussian noise of std 0.05 * sqrt(expected), back to line
  integrals (0 where counts <= 0) * 500, Hann FBP, then the slice's min-max undone.
* `physical`, in HU: attenuation mu = mu_water * (1 + HU / 1000), line integrals in mm,
  `dose * FULL_DOSE_PHOTONS_PER_RAY` photons per ray, Poisson plus electronic noise, log,
  FBP with the chosen reconstruction kernel (`ipv2.simulate.kernels`; Hann, the authors'
  filter, by default), back to HU. FOV padding (below -1024 HU) is air for the scan and is
  restored.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import torch

from ipv2.contract import DEFAULT_DEVICE, SIMULATE_MODES
from ipv2.device import resolve_device
from ipv2.errors import InputError
from ipv2.input_checks import require_ct, require_volume
from ipv2.parallel import map_chunks
from ipv2.progress import Monitor
from ipv2.simulate import photon_noise
from ipv2.simulate.geometry import ParallelBeamGeometry
from ipv2.simulate.nufft_projector import NufftProjector
from ipv2.simulate.projectors import make_projector
from ipv2.simulate.settings import LowDoseSettings
from ipv2.volume import Volume

MODES = SIMULATE_MODES

# Seed mode: the constants of the authors' simulator.
SEED_LINE_INTEGRAL_SCALE = 500.0
SEED_REFERENCE_PHOTONS = 200 * 1000.0  # I0: 200 mAs x 1000 photons per mAs
SEED_REFERENCE_MAS = 125.0  # the normal-dose scan; 2% of it is 2.5 mAs
SEED_FLUX_SLOPE_PER_MAS = 0.015
SEED_FLUX_OFFSET = 0.1002
SEED_GAUSSIAN_FRACTION = 0.05  # Gaussian std as a fraction of sqrt(expected counts)

# Physical mode.
MU_WATER_PER_MM = 0.0192  # linear attenuation of water near 70 keV effective
FULL_DOSE_PHOTONS_PER_RAY = 1.0e6  # incident photons per detector bin and view at dose 1
ELECTRONIC_NOISE_PHOTONS = 10.0  # detector read-out noise std, in photon counts
PADDING_BELOW_HU = -1024.0  # scanners fill outside the field of view below air
AIR_OUTSIDE_FOV_BELOW_HU = -900.0  # what may lie outside the inscribed circle for the circle geometry
MIN_COUNTS = 1.0  # counts are clamped here before the log (photon starvation)

SLICE_PIXELS_PER_BATCH = 2**21  # 8 slices of 512 x 512
MEASURED_FFT_FROM_PIXELS = 2**24  # 64 slices of 512 x 512: worth a measured FFT plan


def seed_flux_fraction(dose: float) -> float:
    """k of the authors' formula for a dose fraction of their 125 mAs reference (0.138 at 2%)."""
    return SEED_FLUX_SLOPE_PER_MAS * dose * SEED_REFERENCE_MAS + SEED_FLUX_OFFSET


def _check_input(hu, settings: LowDoseSettings, name: str) -> None:
    """The volume `name` as the settings' mode needs it: HU for the physical mode."""
    if not isinstance(hu, np.ndarray):
        raise InputError(f"{name}: a numpy array (z, y, x) is needed, not {type(hu).__name__}")
    volume = Volume(hu, spacing=(settings.pixel_spacing_mm, settings.pixel_spacing_mm, 1.0))
    if settings.mode == "physical":
        require_ct(volume, name)
    else:
        require_volume(volume, name)


def _square_pad(height: int, width: int):
    size = max(height, width)
    top, left = (size - height) // 2, (size - width) // 2
    return size, (slice(top, top + height), slice(left, left + width))


class _Simulator:
    """Runs one mode over batches of square slices on one device."""

    def __init__(
        self,
        settings: LowDoseSettings,
        geometry: ParallelBeamGeometry,
        device: torch.device,
        projector: str,
        zero_outside_circle: bool,
    ):
        self.settings = settings
        self.geometry = geometry
        self.device = device
        self.projector = make_projector(geometry, device, projector)
        self.zero_outside_circle = zero_outside_circle

    def _forward(self, images: torch.Tensor, worker: int) -> torch.Tensor:
        sinogram = self.projector.forward(images, zero_outside_circle=self.zero_outside_circle, worker=worker)
        return sinogram.to(self.device)

    def _fbp(self, sinogram: torch.Tensor, worker: int) -> torch.Tensor:
        return self.projector.fbp(sinogram, worker=worker).to(self.device)

    def seed_batch(self, slices: torch.Tensor, generators, worker: int = 0) -> torch.Tensor:
        """The authors' formula on slices already normalised to [0, 1]."""
        s = self.settings
        scale = SEED_LINE_INTEGRAL_SCALE
        photons = seed_flux_fraction(s.dose) * SEED_REFERENCE_PHOTONS
        line_integrals = self._forward(slices, worker) / scale
        expected = photons * torch.exp(-line_integrals)
        if not s.noise_free:
            spread = SEED_GAUSSIAN_FRACTION * torch.sqrt(expected) if s.electronic_noise else None
            counts = photon_noise.poisson_plus_gaussian(expected, spread, generators)
        else:
            counts = expected
        positive = counts > 0
        noisy = torch.where(positive, -torch.log(torch.where(positive, counts, 1.0) / photons), 0.0) * scale
        return self._fbp(noisy, worker)

    def physical_batch(self, mu: torch.Tensor, generators, worker: int = 0) -> torch.Tensor:
        """Noisy reconstruction of attenuation maps (per mm), in per mm.

        With an input dose, the reconstruction of the missing noise alone (to add to the input).
        """
        s = self.settings
        spacing = s.pixel_spacing_mm
        line_integrals = self._forward(mu, worker) * spacing
        electronic = ELECTRONIC_NOISE_PHOTONS if s.electronic_noise else 0.0
        target_photons = s.dose * FULL_DOSE_PHOTONS_PER_RAY
        if s.noise_free:
            return self._fbp(line_integrals, worker) / spacing
        if s.input_dose is None:
            expected = target_photons * torch.exp(-line_integrals)
            spread = torch.full_like(expected, electronic) if electronic > 0 else None
            counts = photon_noise.poisson_plus_gaussian(expected, spread, generators)
        else:
            counts = self._inserted_counts(line_integrals, s.input_dose, electronic, generators)
        noisy = torch.log(target_photons / counts.clamp_min(MIN_COUNTS))
        if s.input_dose is not None:
            # The input's own noise is already in the image; reconstruct only what is added.
            return self._fbp(noisy - line_integrals, worker) / spacing
        return self._fbp(noisy, worker) / spacing

    def _inserted_counts(
        self, line_integrals: torch.Tensor, input_dose: float, electronic: float, generators
    ) -> torch.Tensor:
        """Counts at the target dose from a scan that already holds the noise of `input_dose`.

        Scaling the input's counts by a = dose / input_dose and adding Gaussian noise of
        variance a(1 - a) * counts + (1 - a^2) * electronic^2 gives the variance of a scan at
        the target dose (Poisson a * counts plus the same electronic noise). The counts come
        from the input's reprojection, which holds little of its noise, so the result is the
        extra noise only; it is reconstructed on its own and added to the input image.
        """
        s = self.settings
        ratio = s.dose / input_dose
        measured = input_dose * FULL_DOSE_PHOTONS_PER_RAY * torch.exp(-line_integrals)
        variance = ratio * (1.0 - ratio) * measured + (1.0 - ratio**2) * electronic**2
        return ratio * measured + torch.sqrt(variance.clamp_min(0.0)) * photon_noise.gaussian(measured, generators)


def simulate_low_dose(
    hu: np.ndarray,
    settings: LowDoseSettings | None = None,
    *,
    device: str = DEFAULT_DEVICE,
    monitor: Monitor | None = None,
    projector: str = "auto",
    batch_size: int | None = None,
    name: str = "input volume",
) -> np.ndarray:
    """A simulated low-dose scan (z, y, x) float32 in the input's units, under `settings`
    (`LowDoseSettings`; its defaults when None).

    The physical mode needs HU; the seed mode works on any intensities (it normalises each
    slice). With an input dose only the missing noise is reconstructed and added to the
    input, whose sharpness is kept; without one the output is a full reconstruction with the
    settings' kernel. The seed mode, like the authors' formula, always treats the input as
    clean and ignores the input dose. The input is not modified. Same seed, same result on
    the same device; each slice's noise depends only on the seed and its index, not on the
    batching. The noise-free scan has the same projection and reconstruction, hence the same
    resolution, without photon or electronic noise (the reference a perfect denoiser would
    reach). With an input dose the added noise is reconstructed with the kernel, so the
    result carries that kernel's noise texture on the input's own anatomy. `name` is how
    messages call the input. On the CPU the slices of a batch are spread over the cores, and
    torch's own thread count is 1 for the duration of the call.
    """
    settings = settings if settings is not None else LowDoseSettings()
    if not isinstance(settings, LowDoseSettings):
        raise TypeError(f"settings: a LowDoseSettings is needed, not {type(settings).__name__}")
    _check_input(hu, settings, name)
    monitor = monitor if monitor is not None else Monitor()
    torch_device = resolve_device(device)
    depth, height, width = hu.shape
    size, inner = _square_pad(height, width)
    # Input pixels that fall outside the circle inscribed in the (padded) square slice.
    outside = ParallelBeamGeometry(size, size).outside_circle[inner]
    if settings.mode == "physical":
        padding = hu < PADDING_BELOW_HU
        # Scanners reconstruct a circle; when only air lies outside it the circle geometry
        # (a shorter detector, as the scanner's) gives the same result for less work, and
        # the pixels outside keep their input values.
        circle = size == height == width and not np.any(hu[:, outside] > AIR_OUTSIDE_FOV_BELOW_HU)
        zero_outside = circle
    else:
        padding = None
        circle = True
        zero_outside = bool(np.all(hu[:, outside] == hu.min(axis=(1, 2))[:, None]))
    geometry = ParallelBeamGeometry.like_authors(size, circle=circle, kernel=settings.kernel)
    simulator = _Simulator(settings, geometry, torch_device, projector, zero_outside)
    if isinstance(simulator.projector, NufftProjector):
        simulator.projector.measure_fft = depth * size * size >= MEASURED_FFT_FROM_PIXELS
    cores = _worker_count(torch_device)
    if batch_size is None:
        batch_size = max(1, min(depth, max(cores, SLICE_PIXELS_PER_BATCH // (size * size))))
    elif isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InputError(f"batch size {batch_size!r} must be a positive integer")
    output = np.empty(hu.shape, dtype=np.float32)
    run_block = _seed_block if settings.mode == "seed" else _physical_block

    def simulate_slices(part: tuple[int, int, int]) -> None:
        start, stop, worker = part
        with torch.no_grad():
            generators = photon_noise.slice_generators(settings.seed, range(start, stop), torch_device)
            block = torch.from_numpy(np.asarray(hu[start:stop], dtype=np.float32))
            output[start:stop] = run_block(simulator, block, size, inner, generators, worker)

    stage = f"Simulating {100 * settings.dose:g}% dose ({settings.mode})"
    monitor.step(stage, 0, depth)
    workers = min(cores, batch_size)
    with _torch_threads(1 if workers > 1 else None):
        for start in range(0, depth, batch_size):
            stop = min(start + batch_size, depth)
            bounds = np.linspace(start, stop, min(workers, stop - start) + 1).astype(int)
            # The parts of a batch run at once, each as a worker of its own: the projector keeps its plans per worker.
            parts = [(int(a), int(b), worker) for worker, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]
            map_chunks(simulate_slices, parts, workers=workers, monitor=monitor)
            monitor.step(stage, stop, depth)
    if padding is not None and padding.any():
        output[padding] = hu[padding]
    return output


def _worker_count(device: torch.device) -> int:
    """CPU: one worker per core, each on part of a batch; a GPU parallelises on its own."""
    if device.type != "cpu":
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores)


@contextlib.contextmanager
def _torch_threads(count: int | None):
    """Workers split the slices among the cores; torch's own thread pool would only contend."""
    if count is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _embed(block: torch.Tensor, size: int, inner, fill: torch.Tensor) -> torch.Tensor:
    square = fill.reshape(-1, 1, 1).expand(block.shape[0], size, size).clone()
    square[:, inner[0], inner[1]] = block
    return square


def _seed_block(simulator: _Simulator, block: torch.Tensor, size: int, inner, generators, worker: int) -> np.ndarray:
    lowest = block.amin(dim=(1, 2))
    highest = block.amax(dim=(1, 2))
    span = highest - lowest
    flat = span <= 0
    normalised = (block - lowest[:, None, None]) / torch.where(flat, 1.0, span)[:, None, None]
    square = _embed(normalised, size, inner, torch.zeros_like(lowest))
    recon = simulator.seed_batch(square.to(simulator.device), generators, worker).cpu()[:, inner[0], inner[1]]
    result = recon * span[:, None, None] + lowest[:, None, None]
    # A constant slice has nothing to project; it stays as it was.
    result[flat] = block[flat]
    return result.numpy()


def _physical_block(
    simulator: _Simulator, block: torch.Tensor, size: int, inner, generators, worker: int
) -> np.ndarray:
    mu = (MU_WATER_PER_MM * (1.0 + block / 1000.0)).clamp_min(0.0)
    square = _embed(mu, size, inner, torch.zeros(block.shape[0]))
    if simulator.geometry.circle:
        square[:, torch.as_tensor(simulator.geometry.outside_circle)] = 0.0
    recon = simulator.physical_batch(square.to(simulator.device), generators, worker).cpu()[:, inner[0], inner[1]]
    if simulator.settings.input_dose is not None:
        hu = block + 1000.0 * recon / MU_WATER_PER_MM
    else:
        hu = 1000.0 * (recon / MU_WATER_PER_MM - 1.0)
    if simulator.geometry.circle:
        outside = torch.as_tensor(simulator.geometry.outside_circle)
        hu[:, outside] = block[:, outside]
    return hu.numpy()
