"""Fourier-slice projection and back-projection with a non-uniform FFT (finufft), O(n^2 log n).

Forward: the 1D Fourier transform of a projection at angle theta is the image's 2D
transform on the line through the origin at that angle (Fourier slice theorem). A type 2
NUFFT evaluates the image's transform at those polar points for all angles at once; an
inverse FFT along each line gives the projections on the detector bins. The pixels are seen
through scikit-image's bilinear rotation, whose response is sinc^2 along each image axis.

Back-projection: summing linearly interpolated filtered projections over angles is, in
the Fourier domain, a sum of plane waves with polar frequencies, each weighted by the
projection's spectrum times the triangle kernel's response sinc^2 (linear interpolation
passes the filtered projection's spectrum and its images at +-1, +-2 ... cycles/pixel).
A type 1 NUFFT (the adjoint) sums those waves on the pixel grid.

The radial frequencies are sampled at multiples of 1/L, where L exceeds the width over which
the projections (or the interpolated filtered projections) are non-zero plus the width that
is read, so the periodic images of the sampled spectrum never overlap what is kept.
Frequencies up to `bands/2` cycles/pixel are kept: 1 band is the main lobe only (relative
L2 difference to scikit-image about 3e-3 for the FBP and 1e-3 to 2e-3 for the projections of
a 512x512 chest slice); 3 bands add the first images of the interpolation kernels (5e-4 for
the FBP) at about twice the cost.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import finufft
import numpy as np
import torch

from ipv2.progress import Monitor
from ipv2.simulate.filtering import filter_projections
from ipv2.simulate.geometry import ParallelBeamGeometry, linear_interpolation_response

DEFAULT_TOLERANCE = 1e-4
DEFAULT_BANDS = 1
# A small upsampling factor makes the NUFFT's own FFT about 2.5x smaller; at single precision
# and tolerance 1e-4 its wider spreading kernel costs less than the FFT it saves.
NUFFT_OPTIONS = {"upsampfac": 1.25}
# FFTW flags: a measured FFT plan runs about 30% faster than an estimated one but costs a
# second or two the first time a size is planned in a process.
FFTW_MEASURE = 0
FFTW_ESTIMATE = 64


def _even_at_least(n: float) -> int:
    n = int(math.ceil(n))
    return n + (n % 2)


class NufftProjector:
    name = "nufft"

    def __init__(
        self,
        geometry: ParallelBeamGeometry,
        tolerance: float = DEFAULT_TOLERANCE,
        bands: int = DEFAULT_BANDS,
        forward_bands: int | None = None,
    ):
        if bands % 2 != 1 or bands < 1:
            raise ValueError("bands must be an odd number >= 1")
        self.geometry = geometry
        self.tolerance = float(tolerance)
        self.bands = bands
        self.forward_bands = bands if forward_bands is None else forward_bands
        g = geometry
        read_half_width = max(g.detector_centre, g.detector_count - g.detector_centre)
        # Projections reach |u| < sqrt(2) (n/2 + 1) through the corners, or n/2 + 2 when the
        # image is zero outside the inscribed circle; the detector window read is n_det wide.
        corner_support = math.sqrt(2.0) * (g.size / 2.0 + 1.0) + 1.0
        circle_support = g.size / 2.0 + 2.0
        self.forward_lengths = {
            False: _even_at_least(max(g.detector_count, corner_support + read_half_width + 2)),
            True: _even_at_least(max(g.detector_count, circle_support + read_half_width + 2)),
        }
        # Back-projection reads |u| <= reconstruction_radius from a window one bin wider.
        self.backward_length = _even_at_least(g.window_radius + math.ceil(g.reconstruction_radius) + 2)
        self.options = dict(NUFFT_OPTIONS)
        self.measure_fft = False
        # (type, radial length, bands, worker) -> (batch, FFTW flag, finufft plan)
        self._plans: dict[tuple[int, int, int, int], tuple[int, int, Any]] = {}
        self._lock = threading.Lock()

    # --- NUFFT plans and execution ---------------------------------------------------------
    def _points(self, radial: np.ndarray):
        """Nonuniform points (row-frequency, column-frequency) in radians per pixel, angle-major."""
        angles = self.geometry.angles_rad
        rows = -2.0 * np.pi * np.sin(angles)[:, None] * radial[None, :]
        cols = 2.0 * np.pi * np.cos(angles)[:, None] * radial[None, :]
        return rows.ravel().astype(np.float32), cols.ravel().astype(np.float32)

    def _plan(self, kind: int, length: int, bands: int, batch: int, worker: int):
        """A single-threaded plan per (type, radial sampling, worker), replanned when the batch changes."""
        key = (kind, length, bands, worker)
        fftw = FFTW_MEASURE if self.measure_fft else FFTW_ESTIMATE
        held = self._plans.get(key)
        if held is None or held[:2] != (batch, fftw):
            g = self.geometry
            plan = finufft.Plan(
                kind,
                (g.size, g.size),
                n_trans=batch,
                eps=self.tolerance,
                dtype="complex64",
                nthreads=1,
                fftw=fftw,
                **self.options,
            )
            plan.setpts(*self._points(self._radial(length, bands)))
            held = self._plans[key] = (batch, fftw, plan)
        return held[2]

    @staticmethod
    def _radial(length: int, bands: int) -> np.ndarray:
        """Radial frequencies 0, 1/L, ... up to bands/2 cycles per pixel."""
        return np.arange(length * bands // 2 + 1) / length

    def _execute(self, kind: int, length: int, bands: int, data: np.ndarray, worker: int) -> np.ndarray:
        """One single-threaded transform; callers run workers in parallel, each with its own plans.

        Parallel work over slices rather than finufft's OpenMP threads: OpenMP barriers stall
        badly when the cores are shared (finufft's and torch's runtimes spin against each other).
        """
        with self._lock:
            plan = self._plan(kind, length, bands, data.shape[0], worker)
        return plan.execute(data)

    # --- forward ---------------------------------------------------------------------------
    def forward(
        self, images: torch.Tensor, monitor: Monitor | None = None, zero_outside_circle: bool = False, worker: int = 0
    ) -> torch.Tensor:
        """Sinograms (B, n_angles, detector_count) of images (B, n, n), on the CPU.

        `zero_outside_circle`: the caller knows every image is zero outside the inscribed
        circle, which allows a shorter radial sampling (fewer points). `worker`: calls running
        at the same time must give different workers.
        """
        g = self.geometry
        batch = images.shape[0]
        length = self.forward_lengths[bool(zero_outside_circle)]
        bands = self.forward_bands
        radial = self._radial(length, bands)
        data = images.detach().to("cpu", torch.float32).numpy().astype(np.complex64)
        values = self._execute(2, length, bands, data.reshape(batch, g.size, g.size), worker)
        values = values.reshape(batch, g.n_angles, radial.size)
        # The 2D transform of bilinearly interpolated pixels seen along a line: sinc^2 per axis.
        cos = np.abs(np.cos(g.angles_rad))[:, None]
        sin = np.abs(np.sin(g.angles_rad))[:, None]
        response = (np.sinc(radial[None, :] * cos) * np.sinc(radial[None, :] * sin)) ** 2
        weighted = values * response.astype(np.float32)
        half = length // 2
        spectrum = weighted[..., : half + 1].copy()
        # Fold the images of the spectrum at +-1, +-2 ... cycles/pixel onto the main band.
        for band in range(1, bands // 2 + 1):
            above = weighted[..., band * length : band * length + half + 1]
            spectrum[..., : above.shape[-1]] += above
            below = weighted[..., band * length - half : band * length + 1][..., ::-1]
            spectrum[..., : below.shape[-1]] += np.conj(below)
        m = np.arange(half + 1)
        spectrum *= np.exp(-2j * np.pi * m * g.detector_centre / length).astype(np.complex64)
        projections = np.fft.irfft(spectrum, n=length, axis=-1)[..., : g.detector_count]
        if monitor is not None:
            monitor.check()
        return torch.from_numpy(np.ascontiguousarray(projections, dtype=np.float32))

    # --- back-projection -------------------------------------------------------------------
    def backproject_filtered(
        self, filtered: torch.Tensor, monitor: Monitor | None = None, worker: int = 0
    ) -> torch.Tensor:
        """Sum over angles of the linearly interpolated filtered projections, scaled like iradon."""
        g = self.geometry
        window = filtered.detach().to("cpu", torch.float32).numpy()
        batch = window.shape[0]
        radius = g.window_radius
        length = self.backward_length
        spectrum = np.fft.rfft(window, n=length, axis=-1)
        m = np.arange(spectrum.shape[-1])
        spectrum *= np.exp(2j * np.pi * m * radius / length)
        radial = self._radial(length, self.bands)
        # The spectrum of the sampled projection repeats every 1 cycle/pixel.
        residue = np.arange(radial.size) % length
        upper = residue > length // 2
        periodic = spectrum[..., np.where(upper, length - residue, residue)]
        periodic[..., upper] = np.conj(periodic[..., upper])
        weights = linear_interpolation_response(radial) / length
        weights[1:] *= 2.0  # the negative frequencies are the complex conjugates
        strengths = (periodic * weights.astype(np.float32)).astype(np.complex64).reshape(batch, -1)
        image = self._execute(1, length, self.bands, strengths, worker).real
        if monitor is not None:
            monitor.check()
        image = image * np.float32(g.fbp_scale)
        if g.circle:
            image[:, g.outside_circle] = 0.0
        return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))

    def fbp(self, sinogram: torch.Tensor, monitor: Monitor | None = None, worker: int = 0) -> torch.Tensor:
        """Hann-filtered back-projection (B, n, n) of sinograms (B, n_angles, detector_count)."""
        filtered = filter_projections(sinogram.detach().to("cpu", torch.float32), self.geometry)
        return self.backproject_filtered(filtered, monitor, worker)
