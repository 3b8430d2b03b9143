"""The noise power spectrum (NPS) of flat regions, measured as AAPM TG-233 describes.

Square in-plane ROIs of `roi` x `roi` pixels are laid on a grid (half a ROI apart) on every
slice; a ROI counts where every one of its pixels is flat in the reference (`flat_mask`),
so every image of a report is measured in the same ROIs. (Letting a tenth of a ROI be other
tissue brings in edges whose variance swamps the noise: on the demo phantom it tripled the
noise-free truth's "noise" in soft tissue.) The mask must therefore hold contiguous flat
patches of a ROI's size, like `nps_flat_masks`, not the speckled calmest voxels that the
noise figures of `flat_region_noise.uniform_masks` use. Each
ROI's mean is removed (a fitted plane would also remove the lowest frequencies of the noise,
where over-smoothing shows), and

    NPS_2D(fx, fy) = dx dy / (Nx Ny) |DFT(ROI - mean)|^2          (HU^2 mm^2)

averaged over the ROIs, on the frequencies fx = k / (Nx dx), fy = l / (Ny dy) in cycles/mm.
By Parseval, the integral sum(NPS_2D) dfx dfy equals the mean variance of the ROIs about
their means: `variance_hu2` is that integral. The 1D NPS is the mean of NPS_2D over rings
|f| in [f_k - df/2, f_k + df/2), f_k = k df up to the Nyquist frequency 1 / (2 max(dx, dy)).

Figures (f_N the Nyquist frequency):
- `peak_cycles_per_mm`: where the 1D NPS is largest;
- `mean_cycles_per_mm`: sum f NPS_1D(f) / sum NPS_1D(f) over the 1D curve without its zero
  frequency, which the mean removal empties (TG-233's average frequency; white noise gives
  (f_N + df) / 2);
- `band_power`: the fraction of the variance (the 2D integral) at radial frequencies
  |f| < f_N/4 (`low`), f_N/4 <= |f| < f_N/2 (`mid`) and |f| >= f_N/2 (`high`, with the
  corners of the frequency square beyond f_N). White noise gives about 0.05, 0.15, 0.80.

For the report, `nps_flat_masks` marks the flat voxels: those of a region in its tissue's HU
range (as for the noise figures) where the lightly smoothed reference varies by at most
`NPS_FLAT_STD_HU`. A fixed level, not the calmest fraction the noise figures use, because a
ROI needs a contiguous flat patch, and the calmest fraction of a lung is speckled between
its vessels.

Over-smoothing moves the peak and the mean frequency down and power into `low`; a
checkerboard texture puts power near f_N, in `high`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ipv2.errors import InputError
from ipv2.evaluate import flat_region_noise

DEFAULT_ROI = 32
MIN_ROI = 8
NPS_FLAT_STD_HU = 20.0
BANDS = (("low", 0.0, 0.25), ("mid", 0.25, 0.5), ("high", 0.5, np.inf))


def _in_plane_spacing(spacing: Sequence[float]) -> tuple:
    values = tuple(float(s) for s in spacing)
    if len(values) != 3 or not all(np.isfinite(s) and s > 0 for s in values):
        raise InputError(f"spacing: three positive sizes in mm are needed (z, y, x), got {tuple(spacing)}")
    return values[1], values[2]


def nps_flat_masks(reference: np.ndarray, regions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Flat voxels for NPS ROIs in background, lung and soft tissue, from region masks by name."""
    reference = np.asarray(reference, dtype=np.float64)
    calm = flat_region_noise.structure_variance(reference) <= NPS_FLAT_STD_HU**2
    masks = {}
    for spec in flat_region_noise.UNIFORM_REGIONS:
        in_range = flat_region_noise.UniformRegion(spec.region, spec.hu_range, calmest_fraction=None)
        masks[spec.region] = (
            flat_region_noise.uniform_mask(reference, regions[flat_region_noise.SOURCE_REGION[spec.region]], in_range)
            & calm
        )
    return masks


def roi_corners(flat_mask: np.ndarray, roi: int) -> np.ndarray:
    """(slice, row, column) of the top-left corner of every grid ROI that is wholly flat."""
    flat = np.asarray(flat_mask, dtype=bool)
    depth, rows, columns = flat.shape
    if rows < roi or columns < roi:
        return np.empty((0, 3), dtype=int)
    # Flat pixels of the ROI starting at (row, column), from a summed-area table.
    table = np.zeros((depth, rows + 1, columns + 1), dtype=np.int64)
    table[:, 1:, 1:] = flat.cumsum(axis=1).cumsum(axis=2)
    step = max(roi // 2, 1)
    starts_y = np.arange(0, rows - roi + 1, step)
    starts_x = np.arange(0, columns - roi + 1, step)
    top, left = starts_y[:, None], starts_x[None, :]
    count = (
        table[:, top + roi, left + roi] - table[:, top, left + roi] - table[:, top + roi, left] + table[:, top, left]
    )
    z, iy, ix = np.nonzero(count == roi * roi)
    return np.stack([z, starts_y[iy], starts_x[ix]], axis=1)


def noise_power_spectrum(
    image: np.ndarray, flat_mask: np.ndarray, spacing: Sequence[float], roi: int = DEFAULT_ROI
) -> dict | None:
    """The NPS of `image` (z, y, x) HU in the ROIs flat in `flat_mask`; None without a ROI.

    spacing is (z, y, x) in mm. Returns frequencies_cycles_per_mm and nps (the 1D curve,
    HU^2 mm^2, as lists), variance_hu2, roi_variance_hu2 (the mean variance of the ROIs
    about their means, equal to variance_hu2 by Parseval), peak_cycles_per_mm,
    mean_cycles_per_mm, nyquist_cycles_per_mm, band_power {low, mid, high} and rois.
    """
    image = np.asarray(image)
    flat_mask = np.asarray(flat_mask)
    if image.ndim != 3:
        raise InputError(f"NPS: a (z, y, x) volume is needed, got shape {image.shape}")
    if flat_mask.shape != image.shape:
        raise InputError(f"NPS: the flat mask's shape {flat_mask.shape} differs from the image's {image.shape}")
    if isinstance(roi, bool) or not isinstance(roi, (int, np.integer)) or roi < MIN_ROI:
        raise InputError(f"NPS: the ROI size must be a whole number of at least {MIN_ROI} pixels, got {roi!r}")
    if not np.all(np.isfinite(image)):
        raise InputError("NPS: the image holds NaN or infinite values")
    dy, dx = _in_plane_spacing(spacing)
    corners = roi_corners(flat_mask, int(roi))
    if len(corners) == 0:
        return None

    offsets = np.arange(roi)
    rows = corners[:, 1, None] + offsets
    columns = corners[:, 2, None] + offsets
    patches = image[corners[:, 0, None, None], rows[:, :, None], columns[:, None, :]].astype(np.float64)
    residual = patches - patches.mean(axis=(1, 2), keepdims=True)
    spectrum = (np.abs(np.fft.fft2(residual)) ** 2).mean(axis=0) * (dx * dy) / (roi * roi)

    fy = np.fft.fftfreq(roi, d=dy)
    fx = np.fft.fftfreq(roi, d=dx)
    radius = np.hypot(fy[:, None], fx[None, :])
    df_y, df_x = 1.0 / (roi * dy), 1.0 / (roi * dx)
    variance = float(spectrum.sum() * df_y * df_x)

    nyquist = 1.0 / (2.0 * max(dx, dy))
    step = max(df_x, df_y)
    ring = np.rint(radius / step).astype(int)
    bins = int(np.floor(nyquist / step + 1e-9)) + 1
    inside = ring < bins
    counts = np.bincount(ring[inside], minlength=bins)
    sums = np.bincount(ring[inside], weights=spectrum[inside], minlength=bins)
    curve = np.divide(sums, counts, out=np.zeros(bins), where=counts > 0)
    frequencies = np.arange(bins) * step

    curve_total = curve[1:].sum()
    mean_frequency = float((frequencies[1:] * curve[1:]).sum() / curve_total) if curve_total > 0 else float("nan")
    total = spectrum.sum()
    band_power = {
        name: (
            float(spectrum[(radius >= low * nyquist) & (radius < high * nyquist)].sum() / total)
            if total > 0
            else float("nan")
        )
        for name, low, high in BANDS
    }
    return {
        "frequencies_cycles_per_mm": frequencies.tolist(),
        "nps": curve.tolist(),
        "variance_hu2": variance,
        "roi_variance_hu2": float(np.mean(residual**2)),
        "peak_cycles_per_mm": float(frequencies[int(np.argmax(curve))]),
        "mean_cycles_per_mm": mean_frequency,
        "nyquist_cycles_per_mm": nyquist,
        "band_power": band_power,
        "rois": int(len(corners)),
    }
