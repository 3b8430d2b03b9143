"""Rotate-and-sum projection and interpolating back-projection in torch.

This is scikit-image's radon and iradon written for batches of slices on any torch device:
bilinear rotation with zero fill summed along rows, and linear interpolation of the
filtered projections. It costs O(n^3) per slice, so it is the path for CUDA and the exact
reference for the Fourier path; on a CPU the NUFFT projector is much faster.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ipv2.progress import Monitor
from ipv2.simulate.filtering import filter_projections
from ipv2.simulate.geometry import ParallelBeamGeometry

# Angles per chunk bound the memory of the sampling grids: (chunk, n_det, n_det, 2) floats.
ELEMENTS_PER_CHUNK = 2**24


class DirectProjector:
    name = "direct"

    def __init__(self, geometry: ParallelBeamGeometry, device: torch.device | str = "cpu"):
        self.geometry = geometry
        self.device = torch.device(device)
        # Coordinates in double precision on the device: float32 would move samples by ~1e-5 pixel.
        self._angles = torch.as_tensor(geometry.angles_rad, dtype=torch.float64, device=self.device)

    def _angle_chunks(self, per_angle: int):
        chunk = max(1, ELEMENTS_PER_CHUNK // max(per_angle, 1))
        for start in range(0, self.geometry.n_angles, chunk):
            yield start, min(start + chunk, self.geometry.n_angles)

    def forward(
        self, images: torch.Tensor, monitor: Monitor | None = None, zero_outside_circle: bool = False, worker: int = 0
    ) -> torch.Tensor:
        """Sinograms (B, n_angles, detector_count) of images (B, n, n); the hints change nothing here."""
        g = self.geometry
        images = images.to(self.device, torch.float32)
        batch = images.shape[0]
        det = g.detector_count
        offsets = torch.arange(det, dtype=torch.float64, device=self.device) - g.detector_centre
        out_x = offsets[None, None, :]
        out_y = offsets[None, :, None]
        sinogram = torch.empty(batch, g.n_angles, det, dtype=torch.float32, device=self.device)
        scale = 2.0 / (g.size - 1)
        source = images[None]
        for start, stop in self._angle_chunks(det * det * max(batch, 1)):
            cos = torch.cos(self._angles[start:stop])[:, None, None]
            sin = torch.sin(self._angles[start:stop])[:, None, None]
            x_in = cos * out_x + sin * out_y + g.centre
            y_in = -sin * out_x + cos * out_y + g.centre
            grid = torch.stack((x_in * scale - 1.0, y_in * scale - 1.0), dim=-1).to(torch.float32)
            rotated = F.grid_sample(
                source.expand(stop - start, -1, -1, -1), grid, mode="bilinear", padding_mode="zeros", align_corners=True
            )
            sinogram[:, start:stop] = rotated.sum(dim=2).transpose(0, 1)
            if monitor is not None:
                monitor.check()
        return sinogram

    def backproject_filtered(
        self, filtered: torch.Tensor, monitor: Monitor | None = None, worker: int = 0
    ) -> torch.Tensor:
        """Sum over angles of the linearly interpolated filtered projections, scaled like iradon."""
        g = self.geometry
        filtered = filtered.to(self.device, torch.float32)
        batch, _, length = filtered.shape
        offsets = torch.arange(g.size, dtype=torch.float64, device=self.device) - g.centre
        cols = offsets[None, None, :]
        rows = offsets[None, :, None]
        image = torch.zeros(batch, g.size * g.size, dtype=torch.float32, device=self.device)
        first, last = g.readable_range
        scale = 2.0 / (length - 1)
        for start, stop in self._angle_chunks(g.size * g.size * max(batch, 1)):
            cos = torch.cos(self._angles[start:stop])[:, None, None]
            sin = torch.sin(self._angles[start:stop])[:, None, None]
            position = (cols * cos - rows * sin + g.window_radius).reshape(stop - start, 1, -1)
            # Zero beyond the range iradon reads, like np.interp beyond the projection.
            inside = (position >= g.window_radius + first) & (position <= g.window_radius + last)
            grid = torch.stack((position * scale - 1.0, torch.zeros_like(position)), dim=-1).to(torch.float32)
            # Each angle's filtered projections are a one-row image with the slices as channels.
            rows_of = filtered[:, start:stop].transpose(0, 1).unsqueeze(2)
            values = F.grid_sample(rows_of, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
            image += (values[:, :, 0] * inside.to(torch.float32)).sum(dim=0)
            if monitor is not None:
                monitor.check()
        image = image.reshape(batch, g.size, g.size) * g.fbp_scale
        if g.circle:
            image[:, torch.as_tensor(g.outside_circle, device=self.device)] = 0.0
        return image

    def fbp(self, sinogram: torch.Tensor, monitor: Monitor | None = None, worker: int = 0) -> torch.Tensor:
        """Hann-filtered back-projection (B, n, n) of sinograms (B, n_angles, detector_count)."""
        filtered = filter_projections(sinogram.to(self.device, torch.float32), self.geometry)
        return self.backproject_filtered(filtered, monitor)
