"""Parallel-beam geometry and filters that reproduce scikit-image's radon and iradon.

scikit-image (0.26) rotates the image about pixel (n//2, n//2); detector bin d of a
projection sits at u = d - n_det//2 pixels from the centre, and image pixel (row, col) at
angle theta projects onto u = (col - n//2)*cos(theta) - (row - n//2)*sin(theta).
Its filtered back-projection pads each projection, centred, to the square diagonal, then
with zeros to a power of two of at least twice that, filters with a ramp built in the spatial
domain times a Hann window, interpolates the filtered projection linearly and scales the sum
over angles by pi / (2 * n_angles). With `circle=True` the detector is n bins wide and the
reconstruction is zero outside the inscribed circle; with `circle=False` the detector spans
the image diagonal and the whole square is reconstructed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ipv2.contract import DEFAULT_KERNEL
from ipv2.simulate.kernels import kernel_window, require_kernel


def next_fast_length(n: int) -> int:
    """The smallest m >= n whose prime factors are 2, 3 and 5 (fast FFT sizes)."""
    m = max(int(n), 1)
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


@dataclass(frozen=True)
class ParallelBeamGeometry:
    """Square n x n slices, `n_angles` views evenly spread over [0, 180) degrees."""

    size: int
    n_angles: int
    circle: bool = True
    kernel: str = DEFAULT_KERNEL

    @classmethod
    def like_authors(cls, size: int, circle: bool = True, kernel: str = DEFAULT_KERNEL) -> ParallelBeamGeometry:
        """max(H, W) angles, as the authors' simulator uses."""
        return cls(size=size, n_angles=size, circle=circle, kernel=kernel)

    @cached_property
    def angles_rad(self) -> np.ndarray:
        return np.deg2rad(np.linspace(0.0, 180.0, self.n_angles, endpoint=False))

    @property
    def centre(self) -> int:
        """Index of the rotation axis along each image axis."""
        return self.size // 2

    @cached_property
    def detector_count(self) -> int:
        """Bins per projection: the image width inside the circle, else the diagonal."""
        if self.circle:
            return self.size
        return self.size + int(math.ceil(math.sqrt(2.0) * self.size - self.size))

    @property
    def detector_centre(self) -> int:
        return self.detector_count // 2

    @cached_property
    def filter_input_count(self) -> int:
        """Length of a projection once padded, centred, to cover the diagonal."""
        if self.circle:
            return int(math.ceil(math.sqrt(2.0) * self.detector_count))
        return self.detector_count

    @property
    def filter_input_centre(self) -> int:
        return self.filter_input_count // 2

    @cached_property
    def filter_length(self) -> int:
        """FFT length of the ramp filter: a power of two, at least twice the padded projection."""
        return max(64, int(2 ** math.ceil(math.log2(2 * self.filter_input_count))))

    @property
    def fbp_scale(self) -> float:
        return math.pi / (2 * self.n_angles)

    @cached_property
    def reconstruction_radius(self) -> float:
        """Largest |u| at which a reconstructed pixel samples a projection."""
        half = self.size // 2
        if self.circle:
            return float(half)
        far = max(half, self.size - 1 - half)
        return math.hypot(far, far)

    @cached_property
    def outside_circle(self) -> np.ndarray:
        """Pixels that a circle reconstruction sets to zero, (n, n) bool."""
        offsets = np.arange(self.size) - self.centre
        radius = self.size // 2
        return (offsets[:, None] ** 2 + offsets[None, :] ** 2) > radius**2

    @cached_property
    def ramp_response(self) -> np.ndarray:
        """The kernel's windowed ramp filter on rfft bins 0..filter_length/2 (float64)."""
        return windowed_ramp_filter(self.filter_length, self.kernel)

    @cached_property
    def window_radius(self) -> int:
        """Filtered projections are needed at |u| <= this (interpolation included)."""
        return int(math.ceil(self.reconstruction_radius)) + 1

    @cached_property
    def readable_range(self) -> tuple:
        """Detector positions (u) iradon interpolates between; it reads zero beyond them."""
        first = -min(self.filter_input_centre, self.window_radius)
        last = min(self.filter_input_count - 1 - self.filter_input_centre, self.window_radius)
        return first, last

    @cached_property
    def window_kernel_reach(self) -> int:
        """Largest detector distance between a window bin and a projection bin."""
        return self.window_radius + max(self.detector_centre, self.detector_count - 1 - self.detector_centre)

    @cached_property
    def window_fft_length(self) -> int:
        """A circular convolution this long computes the window without wrap-around."""
        return next_fast_length(2 * self.window_kernel_reach + 1)

    @cached_property
    def window_filter_response(self) -> np.ndarray:
        """rfft of the kernel that maps a projection to its filtered window (complex128).

        scikit-image convolves circularly with period `filter_length`; between a window bin
        and a projection bin at distance k that applies the kernel's value at k mod that
        length. Those values, laid out for the shorter FFT, give exactly the same window.
        """
        spatial = np.fft.irfft(self.ramp_response, n=self.filter_length)
        reach = self.window_kernel_reach
        distances = np.arange(-reach, reach + 1)
        taps = np.zeros(self.window_fft_length)
        shift = self.window_radius - self.detector_centre
        taps[(distances + shift) % self.window_fft_length] = spatial[distances % self.filter_length]
        return np.fft.rfft(taps)


def ramp_filter_full(length: int) -> np.ndarray:
    """The ramp filter's response on all FFT bins, built from its band-limited spatial kernel.

    Sampling the kernel h(0) = 1/4, h(odd k) = -1/(pi k)^2, h(even k != 0) = 0 and taking its
    DFT (Kak and Slaney, eq. 3.61) avoids the DC bias of a sampled |frequency|.
    """
    if length % 2:
        raise ValueError("the ramp filter length must be even")
    index = np.arange(length)
    distance = np.minimum(index, length - index)
    kernel = np.zeros(length)
    kernel[0] = 0.25
    odd = distance % 2 == 1
    kernel[odd] = -1.0 / (np.pi * distance[odd]) ** 2
    return 2.0 * np.real(np.fft.fft(kernel))


def hann_ramp_filter(length: int) -> np.ndarray:
    """Ramp times a Hann window centred on zero frequency, on rfft bins (float64).

    The window, a length-`length` Hann sequence moved so that its middle lands on bin 0, is
    one bin off symmetric; the real part of the filtered projection only sees its even part,
    so that is what is returned. This is scikit-image's `filter_name="hann"` exactly.
    """
    window = np.fft.fftshift(np.hanning(length))
    response = ramp_filter_full(length) * window
    even = 0.5 * (response + np.roll(response[::-1], 1))
    return even[: length // 2 + 1]


def windowed_ramp_filter(length: int, kernel: str = DEFAULT_KERNEL) -> np.ndarray:
    """The band-limited ramp times the kernel's window (`ipv2.simulate.kernels`), on rfft bins.

    `standard` is scikit-image's Hann filter bit for bit; the others sample their window at
    the bin frequencies k / length cycles per pixel.
    """
    if kernel == "standard":
        return hann_ramp_filter(length)
    frequency = np.arange(length // 2 + 1) / length
    return ramp_filter_full(length)[: length // 2 + 1] * kernel_window(frequency, kernel)


def relative_noise_variance(kernel: str, length: int = 1024) -> float:
    """Expected FBP noise variance of a kernel relative to `standard`, for white sinogram noise.

    Back-projection sums filtered noise read through linear interpolation, whose power
    response is sinc^4(f); the variance is then proportional to
    sum_f H(f)^2 sinc^4(f) over the rfft bins, H the windowed ramp.
    """
    frequency = np.arange(length // 2 + 1) / length
    weight = np.sinc(frequency) ** 4

    def power(name: str) -> float:
        return float(np.sum(windowed_ramp_filter(length, name) ** 2 * weight))

    return power(require_kernel(kernel)) / power(DEFAULT_KERNEL)


def linear_interpolation_response(frequency: np.ndarray) -> np.ndarray:
    """Fourier transform of the triangle (linear interpolation) kernel: sinc^2 (cycles/pixel)."""
    return np.sinc(frequency) ** 2
