"""A paired NDCT/uLDCT chest phantom with its ground truth."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ipv2.errors import InputError
from ipv2.phantom.grid import PhantomGrid
from ipv2.phantom.model import build_phantom_model
from ipv2.phantom.render import block_count, render_state
from ipv2.phantom.scanner import outside_fov, pad_outside_fov
from ipv2.phantom.tissues import (LABEL_AIRWAY, LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG, LABEL_NODULE,
                                  LABEL_OTHER_GAS, LABEL_TUMOUR, LABEL_VESSEL, LUNG_FIELD_TISSUES, PADDING_HU,
                                  TISSUE_TO_LABEL, tissue_id)
from ipv2.progress import Monitor
from ipv2.validate import require_dose
from ipv2.volume import Volume

MIN_SIZE, MAX_SIZE = 64, 2048
MIN_SLICES, MAX_SLICES = 4, 1024
MAX_MOTION_MM = 30.0
NDCT_DOSE = 1.0


@dataclass
class PhantomPair:
    """Volumes on one grid. `truth` is the noise-free scan of the chest in the uLDCT's
    breathing state: the same scanner and reconstruction as the uLDCT, without its noise, so
    `uldct - truth` is the noise alone and a perfect denoiser would reach `truth`. `anatomy`
    is the object itself, sharper than any reconstruction. `labels` and `tissues` describe
    it; `deformation` (z, y, x, 3 mm, components x y z) maps a
    uLDCT-state point p to the NDCT-state point p + D(p) showing the same tissue."""

    ndct: Volume
    uldct: Volume
    truth: Volume
    labels: Volume
    deformation: Volume
    ndct_clean: Optional[Volume] = None  # the noise-free scan of the NDCT state
    anatomy: Optional[Volume] = None  # the uLDCT-state object before the scanner
    tissues: Optional[Volume] = None  # tissue ids (`TISSUES`) of the truth
    ndct_tissues: Optional[Volume] = None  # tissue ids of the NDCT state
    parameters: Optional[dict] = None

    def region_labels(self) -> np.ndarray:
        """The true labels as the purification's regions (0 body, 1 background, 2 lung).

        Airways join the lung, as in the method's lung mask; vessels, nodules and the
        tumour, which are not dark, join the body, and so does the gas in the stomach and
        bowel, which is dark but not lung.
        """
        labels = self.labels.array
        regions = np.where(labels == LABEL_AIRWAY, LABEL_LUNG, labels)
        body = (LABEL_VESSEL, LABEL_NODULE, LABEL_TUMOUR, LABEL_OTHER_GAS)
        return np.where(np.isin(regions, body), LABEL_BODY, regions).astype(np.uint8)

    def lung_field(self) -> np.ndarray:
        """(z, y, x) bool: the true lung field, the lungs as an envelope with everything
        inside them (parenchyma, vessels, bronchi, nodules, tumour), but not the trachea and
        main bronchi of the mediastinum (tissues `LUNG_FIELD_TISSUES`)."""
        if self.tissues is None:
            raise InputError("lung_field: this phantom pair carries no tissue map")
        ids = [tissue_id(name) for name in LUNG_FIELD_TISSUES]
        field = np.isin(self.tissues.array, ids)
        if self.parameters and self.parameters.get("fov_padding"):
            field &= self.labels.array != LABEL_BACKGROUND
        return field


def _require_int(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name}: a whole number is needed, got {value!r}")
    if not low <= int(value) <= high:
        raise InputError(f"{name}: {value} is outside the supported range {low}..{high}")
    return int(value)


def _require_positive_mm(value, name: str) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{name}: {value:g} mm must be a positive length")
    return value


def _require_motion(motion_mm) -> float:
    motion = float(motion_mm)
    if not math.isfinite(motion) or not 0.0 <= motion <= MAX_MOTION_MM:
        raise InputError(f"motion_mm: {motion:g} mm of breathing motion is outside 0..{MAX_MOTION_MM:g} mm")
    return motion


def _simulate(clean: np.ndarray, dose: float, seed: int, grid: PhantomGrid, electronic_noise: bool,
              device: str, monitor: Monitor, noise_free: bool = False) -> np.ndarray:
    from ipv2.simulate import simulate_low_dose

    return simulate_low_dose(clean, dose=dose, mode="physical", pixel_spacing_mm=grid.pixel_mm, seed=seed,
                             electronic_noise=electronic_noise, device=device, monitor=monitor,
                             noise_free=noise_free)


def generate_phantom_pair(size: int = 512, slices: int = 48, seed: int = 0, dose: float = 0.02,
                          motion_mm: float = 8.0, fov_padding: bool = False, monitor: Optional[Monitor] = None,
                          *, pixel_mm: Optional[float] = None, slice_mm: Optional[float] = None,
                          electronic_noise: bool = True, device: str = "auto", noise: bool = True,
                          tumour: bool = True) -> PhantomPair:
    """A misaligned NDCT/uLDCT pair of an anthropomorphic chest, deterministic from `seed`.

    The in-plane field of view is 358 mm (0.7 mm pixels at 512) and the slab 120 mm (2.5 mm
    slices at 48) unless `pixel_mm` / `slice_mm` say otherwise. The NDCT is simulated at full
    dose, the uLDCT at `dose`, with different noise seeds; `truth` and `ndct_clean` are the
    same scans without noise. `noise=False` skips the scanner and returns the anatomy of
    both states in place of every scan (for tests and figures). `tumour=False` leaves out
    the lung tumour (the rest of the phantom stays the same).
    """
    size = _require_int(size, "size", MIN_SIZE, MAX_SIZE)
    slices = _require_int(slices, "slices", MIN_SLICES, MAX_SLICES)
    seed = _require_int(seed, "seed", 0, 2 ** 63 - 1)
    dose = require_dose(dose)
    motion_mm = _require_motion(motion_mm)
    if not isinstance(tumour, (bool, np.bool_)):
        raise InputError(f"tumour: True or False is needed, got {tumour!r}")
    pixel_mm = _require_positive_mm(pixel_mm, "pixel_mm")
    slice_mm = _require_positive_mm(slice_mm, "slice_mm")
    monitor = monitor if monitor is not None else Monitor()

    grid = PhantomGrid.create(size, slices, pixel_mm=pixel_mm, slice_mm=slice_mm)
    monitor.step("phantom anatomy", 0, 1)
    model = build_phantom_model(grid, seed, motion_mm, tumour=bool(tumour))
    blocks = block_count(model)
    ndct_state = render_state(model, deformed=False, monitor=monitor, total_steps=2 * blocks)
    uldct_state = render_state(model, deformed=True, monitor=monitor, step_offset=blocks, total_steps=2 * blocks)

    if noise:
        ndct_seed, uldct_seed = (int(s.generate_state(1)[0]) for s in np.random.SeedSequence([seed, 7]).spawn(2))
        ndct = _simulate(ndct_state.hu, NDCT_DOSE, ndct_seed, grid, electronic_noise, device, monitor)
        uldct = _simulate(uldct_state.hu, dose, uldct_seed, grid, electronic_noise, device, monitor)
        truth = _simulate(uldct_state.hu, dose, 0, grid, electronic_noise, device, monitor, noise_free=True)
        ndct_clean = _simulate(ndct_state.hu, NDCT_DOSE, 0, grid, electronic_noise, device, monitor, noise_free=True)
    else:
        ndct, uldct = ndct_state.hu.copy(), uldct_state.hu.copy()
        truth, ndct_clean = uldct_state.hu, ndct_state.hu
    anatomy = uldct_state.hu
    labels = TISSUE_TO_LABEL[uldct_state.tissue]
    if fov_padding:
        outside = outside_fov(grid)
        ndct, uldct, truth, ndct_clean, anatomy = (pad_outside_fov(v, outside)
                                                   for v in (ndct, uldct, truth, ndct_clean, anatomy))
        labels[:, outside] = LABEL_BACKGROUND

    def volume(array, **extra):
        return Volume(np.ascontiguousarray(array), spacing=grid.spacing, origin=grid.origin,
                      metadata={"phantom_seed": seed, **extra})

    parameters = {"size": size, "slices": slices, "seed": seed, "dose": dose, "motion_mm": motion_mm,
                  "fov_padding": bool(fov_padding), "electronic_noise": bool(electronic_noise),
                  "pixel_mm": grid.spacing[0], "slice_mm": grid.spacing[2], "noise": bool(noise),
                  "rigid_shift_mm": list(model.breathing.shift_mm), "tumour": bool(tumour),
                  "anatomy": model.summary(),
                  "padding_hu": PADDING_HU if fov_padding else None}
    return PhantomPair(ndct=volume(ndct.astype(np.float32, copy=False), dose=NDCT_DOSE),
                       uldct=volume(uldct.astype(np.float32, copy=False), dose=dose),
                       truth=volume(truth), labels=volume(labels), deformation=volume(uldct_state.displacement),
                       ndct_clean=volume(ndct_clean), anatomy=volume(anatomy), tissues=volume(uldct_state.tissue),
                       ndct_tissues=volume(ndct_state.tissue), parameters=parameters)
