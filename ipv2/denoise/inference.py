"""Denoising whole volumes with a trained model, slab by slab.

Slices go through the network in batches sized to the device's free memory; each batch is
normalised, denoised and written into one preallocated output, so host memory stays near
two volumes whatever the scan size. When the GPU runs out of memory the batch is halved,
and at one slice the work moves to the CPU with a warning.

A noise-conditioned model (`ipv2.models.conditioning`) is given each slice's measured noise
level; the median level measured is reported. The strength the user chose decides how much
of the input's noise the result keeps (`ipv2.denoise.strength`), for every model.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Union

import numpy as np
import torch
from torch import nn

from ipv2.contract import DEFAULT_DEVICE, DEFAULT_MODEL
from ipv2.denoise.strength import (
    DEFAULT_STRENGTH,
    dose_multiple,
    kept_noise_fraction,
    recombine,
    region_strengths,
    regional_kept_fraction,
    slab_restore_source,
)
from ipv2.device import resolve_device
from ipv2.errors import CheckpointError, InputError
from ipv2.input_checks import require_ct
from ipv2.masks import compute_region_masks
from ipv2.models.bundled import bundled_weights_path
from ipv2.models.checkpoint import LoadedModel, load_checkpoint
from ipv2.models.conditioning import noise_map, slice_noise_levels
from ipv2.models.normalization import Normalization
from ipv2.models.registry import MODEL_REGISTRY
from ipv2.progress import Monitor
from ipv2.volume import Volume

log = logging.getLogger(__name__)

ModelLike = Union[str, os.PathLike, LoadedModel]
CPU_ACTIVATION_BUDGET_BYTES = 1 << 30
GPU_MEMORY_SHARE = 0.6
MAX_BATCH = 64
# Noise levels measured on this many slices at most, the rest interpolated along z.
MEASURED_NOISE_SLICES = 64
# Slices recombined at a time: the in-plane filter's temporaries stay small beside the volume.
RECOMBINED_SLICES = 16


def resolve_model(model: ModelLike = DEFAULT_MODEL) -> LoadedModel:
    """A registered model name (its bundled weights), a checkpoint path, or a loaded model."""
    if isinstance(model, LoadedModel):
        return model
    text = str(model)
    if text.lower() in MODEL_REGISTRY:
        path = bundled_weights_path(text)
        if path is None:
            raise CheckpointError(
                f"model '{text}' has no bundled weights; train one with "
                f"`ipv2 train --model {text.lower()}` and pass the checkpoint file"
            )
        return load_checkpoint(path)
    if Path(text).exists():
        return load_checkpoint(text)
    raise InputError(
        f"model '{text}' is neither a registered model ({', '.join(MODEL_REGISTRY)}) nor an existing checkpoint file"
    )


def _move(item, device: torch.device):
    """Where tensors and networks go to a device: one place, so tests can pretend a GPU."""
    return item.to(device)


def _widest_layer(model: nn.Module) -> int:
    widths = [m.out_channels for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    return max(widths, default=64)


def _cpu_batch_size(model: nn.Module, height: int, width: int) -> int:
    # A few live feature maps of the widest layer per slice bound the activation memory.
    per_slice = height * width * 4 * _widest_layer(model) * 4
    return int(np.clip(CPU_ACTIVATION_BUDGET_BYTES // per_slice, 1, 8))


def _cuda_batch_size(model: nn.Module, channels: int, height: int, width: int, device: torch.device) -> int:
    free, _ = torch.cuda.mem_get_info(device)
    torch.cuda.reset_peak_memory_stats(device)
    baseline = torch.cuda.memory_allocated(device)
    try:
        with torch.inference_mode():
            model(torch.zeros(1, channels, height, width, device=device))
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return 1
    per_slice = max(torch.cuda.max_memory_allocated(device) - baseline, 1)
    return int(np.clip(GPU_MEMORY_SHARE * free // per_slice, 1, MAX_BATCH))


def slab_of(centres, context_slices: int, depth: int) -> np.ndarray:
    """(len(centres), 2k + 1) indices of slices c - k .. c + k of a `depth`-slice volume for
    each centre c, repeated at its ends: what a 2.5D model reads."""
    offsets = np.arange(-context_slices, context_slices + 1)
    return np.clip(np.asarray(centres)[:, None] + offsets[None, :], 0, depth - 1)


def neighbour_slices(array: np.ndarray, context_slices: int, start: int, stop: int) -> np.ndarray:
    """(2k, stop - start, y, x): the slices k .. 1 before and 1 .. k after each of slices start ..
    stop - 1 of a (z, y, x) array, as a 2.5D model reads them."""
    slabs = slab_of(np.arange(start, stop), context_slices, len(array))
    return np.stack([array[slabs[:, column]] for column in range(slabs.shape[1]) if column != context_slices])


def predict_slices(
    model: nn.Module,
    normalization: Normalization,
    array: np.ndarray,
    *,
    context_slices: int = 0,
    device: torch.device | str = "cpu",
    batch_size: int | None = None,
    slices=None,
    out: np.ndarray | None = None,
    monitor: Monitor | None = None,
    stage: str = "denoise",
    noise_levels: np.ndarray | None = None,
    noise_scale_hu: float | None = None,
    restore_outside_window: bool = True,
) -> np.ndarray:
    """Denoises the chosen slices of a (z, y, x) array; returns them as (len(slices), y, x) float32.

    The network sees values outside the normalisation window clipped; with
    `restore_outside_window` what clipping removed is added back, otherwise the result is
    the network's estimate alone (for `ipv2.denoise.strength.recombine`). A noise-conditioned network takes
    `noise_levels` (HU, one per slice of `array`) over `noise_scale_hu` as channel 0.
    A NaN or infinite prediction raises CheckpointError.
    """
    monitor = monitor or Monitor()
    device = torch.device(device)
    depth, height, width = array.shape
    slices = np.arange(depth) if slices is None else np.asarray(slices)
    if out is None:
        out = np.empty((len(slices), height, width), dtype=np.float32)
    conditioned = noise_scale_hu is not None
    if conditioned and (noise_levels is None or len(noise_levels) != depth):
        raise InputError("a noise-conditioned model needs one noise level per slice")
    channels = int(conditioned) + 1 + 2 * context_slices
    model = _move(model, device).eval()
    if batch_size is None:
        batch_size = (
            _cuda_batch_size(model, channels, height, width, device)
            if device.type == "cuda"
            else _cpu_batch_size(model, height, width)
        )
    done = 0
    monitor.step(stage, 0, len(slices))
    while done < len(slices):
        count = min(batch_size, len(slices) - done)
        picked = slices[done : done + count]
        neighbours = slab_of(picked, context_slices, depth)
        raw = array[neighbours].astype(np.float32, copy=False)  # (count, 2k + 1, y, x)
        network_input = normalization.to_model(raw)
        if noise_scale_hu is not None:  # conditioned
            levels = noise_map(np.asarray(noise_levels)[picked], height, width, noise_scale_hu)
            network_input = np.concatenate([levels, network_input], axis=1)
        try:
            with torch.inference_mode():
                batch = _move(torch.from_numpy(network_input), device)
                prediction = model(batch)[:, 0].float().cpu().numpy()
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            if batch_size > 1:
                batch_size = max(1, batch_size // 2)
                log.info("out of GPU memory; retrying with batches of %d slices", batch_size)
                continue
            if device.type == "cpu":
                raise
            log.warning("the GPU ran out of memory even for one slice; continuing on the CPU (slower)")
            device = torch.device("cpu")
            model = _move(model, device)
            batch_size = _cpu_batch_size(model, height, width)
            continue
        if not np.isfinite(prediction).all():
            # Nothing is written: the caller writes only a complete, finite result.
            raise CheckpointError(
                f"the model gave NaN or infinite values for slices {int(picked[0])}.."
                f"{int(picked[-1])}; its weights are corrupt or its training diverged"
            )
        out[done : done + count] = normalization.from_model(prediction)
        if restore_outside_window:
            out[done : done + count] += normalization.outside_window(raw[:, context_slices])
        done += count
        monitor.step(stage, done, len(slices))
    return out


def lung_field_of(masks) -> np.ndarray:
    """The lung field of region masks, or the lung where the method gives no field."""
    return masks.lung_field if masks.lung_field is not None else masks.lung


def scan_lung_field(volume: Volume, monitor: Monitor | None = None) -> np.ndarray:
    """The lung field of one scan (`ipv2.masks` with the scan on both sides of the pair)."""
    return lung_field_of(compute_region_masks(volume, volume, monitor=monitor))


def _kept_fractions(
    volume: Volume, regions: tuple[str | float, str | float], lung_field: np.ndarray | None, monitor: Monitor
) -> np.ndarray:
    """An array over the volume for region-aware (lung, body) strengths; the strengths are
    checked before the lung field is looked for."""
    for strength in regions:
        dose_multiple(strength)
    if lung_field is None:
        lung_field = scan_lung_field(volume, monitor)
    elif np.shape(lung_field) != volume.shape:
        raise InputError(f"the lung field's shape {np.shape(lung_field)} differs from the volume's {volume.shape}")
    return regional_kept_fraction(lung_field, *regions, volume.pixel_spacing_mm)


def denoise_volume(
    volume: Volume,
    model: ModelLike = DEFAULT_MODEL,
    device: str = DEFAULT_DEVICE,
    monitor: Monitor | None = None,
    batch_size: int | None = None,
    context_slices: int | None = None,
    strength=DEFAULT_STRENGTH,
    *,
    lung_strength=None,
    body_strength=None,
    lung_field: np.ndarray | None = None,
) -> Volume:
    """The denoised volume, on the input's grid, in HU.

    `model`: a registered name (its bundled weights), a checkpoint file or a LoadedModel.
    `context_slices`: neighbours on each side given to a 2.5D model; taken from the
    checkpoint when None. `batch_size`: slices per forward pass; sized to memory when None.
    `strength`: `low`, `medium`, `high` or a dose multiple from 1 to 100: the result aims at
    the noise of a scan at that multiple of the input's dose (`ipv2.denoise.strength`).
    `lung_strength`, `body_strength`: region-aware strengths (either defaults to `strength`)
    in the lung field and elsewhere, blended across the border; `lung_field`: that field as
    a boolean array of the volume's shape, found with `ipv2.masks` when None. The result's
    metadata holds `strength` (the dose multiple; `lung_strength` and `body_strength` for
    region-aware strengths) and, for a noise-conditioned model, `measured_noise_hu` (median
    over the slices).
    """
    require_ct(volume, "input volume")
    multiple = dose_multiple(strength)
    if batch_size is not None and int(batch_size) < 1:
        raise InputError(f"batch size {batch_size} must be at least 1")
    loaded = resolve_model(model)
    if loaded.normalization.kind != "hu":
        raise InputError(
            f"model {loaded.source or loaded.architecture} was trained on 8-bit PNG slices; "
            "it cannot denoise a CT volume in HU"
        )
    if context_slices is not None and int(context_slices) != loaded.context_slices:
        raise InputError(
            f"context slices {context_slices} differ from the {loaded.context_slices} the model was trained with"
        )
    torch_device = resolve_device(device)
    monitor = monitor or Monitor()
    regions = region_strengths(strength, lung_strength, body_strength)
    if regions is None and lung_field is not None:
        raise InputError("a lung field sets region-aware strengths; give a lung or a body strength with it")
    kept = kept_noise_fraction(strength) if regions is None else _kept_fractions(volume, regions, lung_field, monitor)
    levels = None
    if loaded.noise_scale_hu is not None:
        levels = slice_noise_levels(volume.array, max_measured=MEASURED_NOISE_SLICES, monitor=monitor)
    estimate = predict_slices(
        loaded.model,
        loaded.normalization,
        volume.array,
        context_slices=loaded.context_slices,
        device=torch_device,
        batch_size=batch_size,
        monitor=monitor,
        noise_levels=levels,
        noise_scale_hu=loaded.noise_scale_hu,
        restore_outside_window=False,
    )
    for start in range(0, estimate.shape[0], RECOMBINED_SLICES):
        monitor.check()  # a second or two over a whole scan: cancel, but no stage of its own
        chunk = slice(start, start + RECOMBINED_SLICES)
        stop = min(start + RECOMBINED_SLICES, estimate.shape[0])
        estimate[chunk] = recombine(
            volume.array[chunk],
            estimate[chunk],
            loaded.normalization,
            kept[chunk] if isinstance(kept, np.ndarray) else kept,
            volume.pixel_spacing_mm,
            restored_from=(
                slab_restore_source(
                    volume.array[start:stop],
                    neighbour_slices(volume.array, loaded.context_slices, start, stop),
                    volume.pixel_spacing_mm,
                    kept[chunk] if isinstance(kept, np.ndarray) else kept,
                )
                if loaded.context_slices
                else None
            ),
        )
    result = volume.with_array(estimate)
    result.metadata["denoised_with"] = loaded.source or loaded.architecture
    result.metadata["strength"] = multiple
    if regions is not None:
        result.metadata["lung_strength"], result.metadata["body_strength"] = (dose_multiple(value) for value in regions)
    if levels is not None:
        result.metadata["measured_noise_hu"] = round(float(np.median(levels)), 2)
    return result
