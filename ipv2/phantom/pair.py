"""A paired NDCT/uLDCT chest phantom with its ground truth."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ipv2.contract import DEFAULT_DEVICE
from ipv2.errors import InputError
from ipv2.phantom.acquisition import Acquisition
from ipv2.phantom.model import build_phantom_model
from ipv2.phantom.options import PhantomOptions
from ipv2.phantom.scanner import outside_fov, pad_outside_fov
from ipv2.phantom.thickness import render_states
from ipv2.phantom.tissues import (
    LABEL_AIRWAY,
    LABEL_BACKGROUND,
    LABEL_BODY,
    LABEL_LUNG,
    LABEL_NODULE,
    LABEL_OTHER_GAS,
    LABEL_TUMOUR,
    LABEL_VESSEL,
    LUNG_FIELD_TISSUES,
    PADDING_HU,
    TISSUE_TO_LABEL,
    tissue_id,
)
from ipv2.progress import Monitor
from ipv2.volume import Volume

NDCT_DOSE = 1.0


@dataclass
class PhantomPair:
    """Volumes on one grid. `truth` is the noise-free scan of the chest in the uLDCT's
    breathing state: the same scanner and reconstruction as the uLDCT, without its noise, so
    `uldct - truth` is the noise alone and a perfect denoiser would reach `truth`. `anatomy`
    is the object itself, sharper than any reconstruction. `labels` and `tissues` describe
    it; `deformation` (z, y, x, 3 mm, components x y z) maps a
    uLDCT-state point p to the NDCT-state point p + D(p) showing the same tissue (at full
    resolution here; deformation.nrrd holds it on a coarser grid, `ipv2.phantom.deformation`).
    With a cropped display field of view every volume is the centre of the full one."""

    ndct: Volume
    uldct: Volume
    truth: Volume
    labels: Volume
    deformation: Volume
    ndct_clean: Volume | None = None  # the noise-free scan of the NDCT state
    anatomy: Volume | None = None  # the uLDCT-state object before the scanner
    tissues: Volume | None = None  # tissue ids (`TISSUES`) of the truth
    ndct_tissues: Volume | None = None  # tissue ids of the NDCT state
    parameters: dict | None = None

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


def _scans(
    ndct_hu: np.ndarray,
    uldct_hu: np.ndarray,
    acquisition: Acquisition,
    options: PhantomOptions,
    device: str,
    monitor: Monitor,
):
    """(ndct, uldct, truth, ndct_clean): both states at full and at the options' dose, with
    and without noise; the noise scaled for the slice thickness (`Acquisition.noise_scale`)."""
    from ipv2.simulate import LowDoseSettings, simulate_low_dose

    def scan(hu: np.ndarray, settings: LowDoseSettings) -> np.ndarray:
        return simulate_low_dose(hu, settings, device=device, monitor=monitor)

    ndct_seed, uldct_seed = (int(s.generate_state(1)[0]) for s in np.random.SeedSequence([options.seed, 7]).spawn(2))
    scanner = LowDoseSettings(
        dose=options.dose,
        mode="physical",
        pixel_spacing_mm=acquisition.pixel_mm,
        electronic_noise=options.electronic_noise,
        kernel=acquisition.kernel,
    )
    full_dose = replace(scanner, dose=NDCT_DOSE)
    ndct = scan(ndct_hu, replace(full_dose, seed=ndct_seed))
    uldct = scan(uldct_hu, replace(scanner, seed=uldct_seed))
    truth = scan(uldct_hu, replace(scanner, noise_free=True))
    ndct_clean = scan(ndct_hu, replace(full_dose, noise_free=True))
    scale = np.float32(acquisition.noise_scale)
    if scale != 1:
        ndct = ndct_clean + scale * (ndct - ndct_clean)
        uldct = truth + scale * (uldct - truth)
    return ndct, uldct, truth, ndct_clean


def generate_phantom_pair(
    acquisition: Acquisition | None = None,
    options: PhantomOptions | None = None,
    *,
    device: str = DEFAULT_DEVICE,
    monitor: Monitor | None = None,
) -> PhantomPair:
    """A misaligned NDCT/uLDCT pair of an anthropomorphic chest, deterministic from the seed.

    `acquisition` (`Acquisition.resolve()` when None, `ipv2.phantom.acquisition`): a 512
    matrix over a 358.4-mm field of view (0.7-mm pixels) and 48 slices 2.5 mm apart over the
    120-mm slab by default, sampling their centre planes unless a thickness gives them a box
    profile; the reconstruction kernel (`ipv2.simulate.kernels.KERNELS`); with a cropped
    display field of view only its centre of the full reconstruction is kept (every volume,
    labels and deformation included). `options` (`PhantomOptions()` when None): the seed,
    the uLDCT's dose, the breathing motion, -2048 HU padding outside the reconstruction
    circle, the electronic noise, the tumour, and `noise=False` for the anatomy of both
    states in place of every scan. The NDCT is simulated at full dose, the uLDCT at the
    options' dose, with different noise seeds; `truth` and `ndct_clean` are the same scans
    without noise. `parameters` records all of it.
    """
    acquisition = acquisition if acquisition is not None else Acquisition.resolve()
    options = options if options is not None else PhantomOptions()
    if not isinstance(acquisition, Acquisition):
        raise TypeError(f"acquisition: an Acquisition is needed, not {type(acquisition).__name__}")
    if not isinstance(options, PhantomOptions):
        raise TypeError(f"options: a PhantomOptions is needed, not {type(options).__name__}")
    seed, dose, fov_padding = options.seed, options.dose, options.fov_padding
    monitor = monitor if monitor is not None else Monitor()

    grid = acquisition.grid()
    monitor.step("phantom anatomy", 0, 1)
    model = build_phantom_model(grid, seed, options.motion_mm, tumour=options.tumour)
    ndct_state, uldct_state = render_states(model, acquisition, monitor)

    if options.noise:
        ndct, uldct, truth, ndct_clean = _scans(ndct_state.hu, uldct_state.hu, acquisition, options, device, monitor)
    else:
        ndct, uldct = ndct_state.hu.copy(), uldct_state.hu.copy()
        truth, ndct_clean = uldct_state.hu, ndct_state.hu
    anatomy = uldct_state.hu
    labels = TISSUE_TO_LABEL[uldct_state.tissue]
    if fov_padding:
        outside = outside_fov(grid)
        ndct, uldct, truth, ndct_clean, anatomy = (
            pad_outside_fov(v, outside) for v in (ndct, uldct, truth, ndct_clean, anatomy)
        )
        labels[:, outside] = LABEL_BACKGROUND
    volumes = [
        ndct,
        uldct,
        truth,
        labels,
        uldct_state.displacement,
        ndct_clean,
        anatomy,
        uldct_state.tissue,
        ndct_state.tissue,
    ]
    if acquisition.crop_size is not None:
        # The display field of view of the full reconstruction: same pixels, fewer of them.
        rows, columns = grid.central_window(acquisition.crop_size)
        volumes = [v[:, rows, columns] for v in volumes]
        grid = grid.cropped(acquisition.crop_size)
    ndct, uldct, truth, labels, displacement, ndct_clean, anatomy, tissues, ndct_tissues = volumes

    def volume(array, **extra):
        return Volume(
            np.ascontiguousarray(array),
            spacing=grid.spacing,
            origin=grid.origin,
            metadata={"phantom_seed": seed, **extra},
        )

    parameters = {
        **acquisition.record(),
        "seed": seed,
        "dose": dose,
        "ndct_dose": NDCT_DOSE,
        "motion_mm": options.motion_mm,
        "fov_padding": fov_padding,
        "electronic_noise": options.electronic_noise,
        "noise": options.noise,
        "rigid_shift_mm": list(model.breathing.shift_mm),
        "tumour": options.tumour,
        "anatomy": model.summary(),
        "padding_hu": PADDING_HU if fov_padding else None,
    }
    return PhantomPair(
        ndct=volume(ndct.astype(np.float32, copy=False), dose=NDCT_DOSE),
        uldct=volume(uldct.astype(np.float32, copy=False), dose=dose),
        truth=volume(truth),
        labels=volume(labels),
        deformation=volume(displacement),
        ndct_clean=volume(ndct_clean),
        anatomy=volume(anatomy),
        tissues=volume(tissues),
        ndct_tissues=volume(ndct_tissues),
        parameters=parameters,
    )
