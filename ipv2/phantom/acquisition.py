"""How the phantom is scanned and reconstructed: matrix, pixel and field of view, slices and
their thickness, reconstruction kernel and a cropped display field of view.

In-plane, `fov_mm = size * pixel_mm`; any one or two of the three may be given and the
rest follow (alone, `size` keeps the 358.4-mm field of view, `pixel_mm` and `fov_mm` keep the
512 matrix); all three must agree to within half a pixel.

Slices lie `slice_mm` apart. With `thickness_mm = None` each slice samples the anatomy in
its centre plane, as thin sections do. With a thickness t the slice profile is a box of
width t: the slice is the mean of the anatomy over [z - t/2, z + t/2], integrated over
planes a step d = slice_mm / m apart that include every slice centre (m the smallest whole
number with d <= min(SUB_SLICE_MM, t)), each plane standing for the d mm around it
(`ipv2.phantom.thickness`). t may exceed the spacing (overlapping slices) or fall short of
it (gaps). A thicker slice collects more photons: the simulated noise, calibrated for
REFERENCE_THICKNESS_MM, is scaled by sqrt(REFERENCE_THICKNESS_MM / t) (variance inversely
proportional to thickness).

`crop_fov_mm` reconstructs a smaller display field of view from the full measurement: the
whole slice is simulated, so projections and noise are those of the whole object, and only
the central `crop_fov_mm` (rounded to whole pixels, with the matrix's parity so that the
centre stays put) is kept, as a scanner does when the display FOV is smaller than the body.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from ipv2.contract import DEFAULT_KERNEL, KERNELS  # the simulator's, without importing torch
from ipv2.errors import InputError, require_choice
from ipv2.phantom.grid import DEFAULT_FOV_MM, REFERENCE_SCAN_MM, PhantomGrid

MIN_SIZE, MAX_SIZE = 64, 2048
MIN_SLICES, MAX_SLICES = 4, 1024
DEFAULT_SIZE = 512
DEFAULT_SLICES = 48
PIXEL_RANGE_MM = (0.1, 10.0)
FOV_RANGE_MM = (50.0, 1000.0)
SLICE_RANGE_MM = (0.1, 20.0)
MAX_THICKNESS_MM = 10.0  # the anatomy's textures reach 30 mm beyond the slab, trees 20 mm
SUB_SLICE_MM = 1.0  # largest distance between the planes averaged into a thick slice
REFERENCE_THICKNESS_MM = 2.5  # the simulator's photon counts are those of a slice this thick
MIN_CROP_SIZE = 32


@dataclass(frozen=True)
class Acquisition:
    """The resolved acquisition: the simulated grid, its slices and their reconstruction.
    `Acquisition.resolve` builds one from the friendly arguments and validates them."""

    size: int  # simulated matrix, pixels per side
    slices: int
    pixel_mm: float
    slice_mm: float
    kernel: str = DEFAULT_KERNEL
    thickness_mm: float | None = None  # None: each slice samples its centre plane
    crop_size: int | None = None  # pixels per side kept of the reconstruction

    @classmethod
    def resolve(
        cls,
        size=None,
        slices: int = DEFAULT_SLICES,
        *,
        pixel_mm=None,
        fov_mm=None,
        slice_mm=None,
        thickness_mm=None,
        kernel: str = DEFAULT_KERNEL,
        crop_fov_mm=None,
    ) -> Acquisition:
        """The validated acquisition from any one or two of `size`, `pixel_mm` and `fov_mm`
        and the optional slice spacing, thickness, kernel and display field of view (the
        module's docstring); every problem is an InputError naming the parameter."""
        size = None if size is None else require_whole(size, "size", MIN_SIZE, MAX_SIZE)
        slices = require_whole(slices, "slices", MIN_SLICES, MAX_SLICES)
        pixel_mm = _length(pixel_mm, "pixel_mm", *PIXEL_RANGE_MM)
        fov_mm = _length(fov_mm, "fov_mm", *FOV_RANGE_MM)
        slice_mm = _length(slice_mm, "slice_mm", *SLICE_RANGE_MM)
        thickness_mm = _length(thickness_mm, "thickness_mm", SLICE_RANGE_MM[0], MAX_THICKNESS_MM)
        crop_fov_mm = _length(crop_fov_mm, "crop_fov_mm", *FOV_RANGE_MM)
        require_choice(kernel, KERNELS, "kernel: reconstruction kernel")
        size, pixel_mm = _matrix(size, pixel_mm, fov_mm)
        if not PIXEL_RANGE_MM[0] <= pixel_mm <= PIXEL_RANGE_MM[1]:
            raise InputError(
                f"fov_mm: {size * pixel_mm:g} mm over {size} pixels makes {pixel_mm:g}-mm pixels, outside "
                f"the supported {PIXEL_RANGE_MM[0]:g}..{PIXEL_RANGE_MM[1]:g} mm"
            )
        slice_mm = slice_mm if slice_mm is not None else REFERENCE_SCAN_MM / slices
        crop = None if crop_fov_mm is None else _crop_size(crop_fov_mm, size, pixel_mm)
        return cls(
            size=size,
            slices=slices,
            pixel_mm=float(pixel_mm),
            slice_mm=float(slice_mm),
            kernel=kernel,
            thickness_mm=thickness_mm,
            crop_size=crop,
        )

    @property
    def fov_mm(self) -> float:
        return self.size * self.pixel_mm

    @property
    def crop_fov_mm(self) -> float | None:
        return None if self.crop_size is None else self.crop_size * self.pixel_mm

    @property
    def output_size(self) -> int:
        return self.size if self.crop_size is None else self.crop_size

    @property
    def planes_per_slice(self) -> int:
        """m: planes rendered per slice spacing (1 for centre-plane slices)."""
        if self.thickness_mm is None:
            return 1
        return max(1, math.ceil(self.slice_mm / min(SUB_SLICE_MM, self.thickness_mm) - 1e-9))

    @property
    def plane_step_mm(self) -> float:
        return self.slice_mm / self.planes_per_slice

    @property
    def noise_scale(self) -> float:
        """Factor on the simulated noise for the slice thickness (1 for centre-plane slices)."""
        return 1.0 if self.thickness_mm is None else math.sqrt(REFERENCE_THICKNESS_MM / self.thickness_mm)

    def grid(self) -> PhantomGrid:
        return PhantomGrid.create(self.size, self.slices, pixel_mm=self.pixel_mm, slice_mm=self.slice_mm)

    def record(self) -> dict:
        """The acquisition as phantom.json keeps it."""
        profile = (
            "centre plane"
            if self.thickness_mm is None
            else f"box {self.thickness_mm:g} mm, integrated over planes {self.plane_step_mm:.3g} mm apart"
        )
        return {
            "size": self.size,
            "slices": self.slices,
            "pixel_mm": self.pixel_mm,
            "fov_mm": self.fov_mm,
            "slice_mm": self.slice_mm,
            "thickness_mm": self.thickness_mm,
            "slice_profile": profile,
            "thickness_noise_scale": self.noise_scale,
            "kernel": self.kernel,
            "crop_fov_mm": self.crop_fov_mm,
            "matrix": [self.slices, self.output_size, self.output_size],
        }


def require_whole(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name}: a whole number is needed, got {value!r}")
    if not low <= int(value) <= high:
        raise InputError(f"{name}: {value} is outside the supported range {low}..{high}")
    return int(value)


def _length(value, name: str, low: float, high: float) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} is not a length in mm") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{name}: {value:g} mm must be a positive length")
    if not low <= value <= high:
        raise InputError(f"{name}: {value:g} mm is outside the supported range {low:g}..{high:g} mm")
    return value


def _matrix(size, pixel_mm, fov_mm):
    """(size, pixel) from the one or two of size, pixel and field of view that were given."""
    if pixel_mm is not None and fov_mm is not None:
        derived = int(round(fov_mm / pixel_mm))
        if size is None:
            if not MIN_SIZE <= derived <= MAX_SIZE:
                raise InputError(
                    f"fov_mm: {fov_mm:g} mm in pixels of {pixel_mm:g} mm makes a {derived}-pixel matrix, "
                    f"outside the supported {MIN_SIZE}..{MAX_SIZE}"
                )
            return derived, pixel_mm
        if abs(size * pixel_mm - fov_mm) > pixel_mm / 2.0:
            raise InputError(
                f"fov_mm: {size} pixels of {pixel_mm:g} mm cover {size * pixel_mm:g} mm, "
                f"not {fov_mm:g} mm; give at most two of size, pixel_mm and fov_mm"
            )
        return size, pixel_mm
    size = DEFAULT_SIZE if size is None else size
    if fov_mm is not None:
        return size, fov_mm / size
    return size, (pixel_mm if pixel_mm is not None else DEFAULT_FOV_MM / size)


def _crop_size(crop_fov_mm: float, size: int, pixel_mm: float) -> int:
    """Pixels per side of a central crop: the nearest count with the matrix's parity."""
    kept = size - 2 * int(round((size - crop_fov_mm / pixel_mm) / 2.0))
    fov = size * pixel_mm
    if crop_fov_mm >= fov or kept >= size:
        raise InputError(
            f"crop_fov_mm: {crop_fov_mm:g} mm does not crop the {fov:g}-mm field of view; "
            "give a smaller display field of view"
        )
    if kept < MIN_CROP_SIZE:
        raise InputError(
            f"crop_fov_mm: {crop_fov_mm:g} mm keeps {kept} pixels of {pixel_mm:g} mm, fewer than {MIN_CROP_SIZE}"
        )
    return kept
