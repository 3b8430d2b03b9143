"""The FBP's projection filtering, exactly as scikit-image's iradon does it, in torch."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ipv2.simulate.geometry import ParallelBeamGeometry


def filter_projections(sinogram: torch.Tensor, geometry: ParallelBeamGeometry) -> torch.Tensor:
    """Hann-ramp filtered projections (B, A, filter_input_count); bin j sits at u = j - filter_input_centre.

    Each projection is padded, centred, to the diagonal and then with zeros to the filter
    length; the filter is applied as a circular convolution of that length, like scikit-image.
    """
    before = geometry.filter_input_centre - geometry.detector_centre
    after = geometry.filter_length - geometry.detector_count - before
    padded = F.pad(sinogram, (before, after))
    response = torch.as_tensor(geometry.hann_ramp_response, dtype=sinogram.dtype, device=sinogram.device)
    spectrum = torch.fft.rfft(padded, dim=-1) * response
    filtered = torch.fft.irfft(spectrum, n=geometry.filter_length, dim=-1)
    return filtered[..., : geometry.filter_input_count].contiguous()
