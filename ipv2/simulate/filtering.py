"""The FBP's projection filtering, with scikit-image's padding and Hann-ramp filter, in torch."""

from __future__ import annotations

import torch

from ipv2.simulate.geometry import ParallelBeamGeometry


def filter_projections(sinogram: torch.Tensor, geometry: ParallelBeamGeometry) -> torch.Tensor:
    """Hann-ramp filtered projections on the window the back-projection reads.

    Returns (B, A, 2 * window_radius + 1); bin j sits at u = j - window_radius. The values
    are those of scikit-image's iradon (projection padded to the diagonal, then to a power of
    two, filtered by circular convolution of that length), computed with a shorter FFT that
    yields only the bins that are read.
    """
    length = geometry.window_fft_length
    response = torch.as_tensor(
        geometry.window_filter_response,
        device=sinogram.device,
        dtype=torch.complex64 if sinogram.dtype == torch.float32 else torch.complex128,
    )
    spectrum = torch.fft.rfft(sinogram, n=length, dim=-1) * response
    filtered = torch.fft.irfft(spectrum, n=length, dim=-1)[..., : 2 * geometry.window_radius + 1]
    first, last = geometry.readable_range
    if first > -geometry.window_radius or last < geometry.window_radius:
        filtered = filtered.clone()
        filtered[..., : first + geometry.window_radius] = 0.0
        filtered[..., last + geometry.window_radius + 1 :] = 0.0
    return filtered.contiguous()
