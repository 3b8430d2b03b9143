"""Model checkpoints: one file holding the weights and what is needed to use them.

A model file is either safetensors (weights plus a JSON record in its metadata) or a torch
file read with `weights_only=True`; nothing is ever unpickled beyond tensors and plain
values. The record names the architecture and its arguments, the intensity normalisation,
the number of neighbouring slices the model sees, the training data, steps and validation
figures, and the package version. A training state (for `--resume`) is a torch file of the
same kind that also carries the optimiser, schedule and random-generator states; it can be
loaded as a model too.
"""

from __future__ import annotations

import datetime
import json
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import torch
from torch import nn

from ipv2 import __version__
from ipv2.errors import CheckpointError, InputError
from ipv2.input_checks import require_arch_args, require_context_slices
from ipv2.io.atomic import atomic_output_path
from ipv2.models.normalization import Normalization
from ipv2.models.registry import MODEL_REGISTRY, build_model

PathLike = Union[str, os.PathLike[str]]
FORMAT = "ipv2-model"
TRAINING_STATE_FORMAT = "ipv2-training-state"
FORMAT_VERSION = 1
METADATA_KEY = "ipv2"


@dataclass
class LoadedModel:
    """A network ready for inference with the record that came with it."""

    model: nn.Module
    architecture: str
    arch_args: dict
    normalization: Normalization
    context_slices: int = 0
    metadata: dict = field(default_factory=dict)
    source: str = ""
    noise_scale_hu: float | None = None  # set for noise-conditioned models (`ipv2.models.conditioning`)

    @property
    def in_channels(self) -> int:
        return in_channels(self.context_slices, self.noise_scale_hu)


def in_channels(context_slices: int, noise_scale_hu: float | None) -> int:
    """The noise map (when conditioned) and the 2k + 1 slices a network reads."""
    return (1 if noise_scale_hu else 0) + 1 + 2 * int(context_slices)


def model_record(
    architecture: str,
    arch_args: dict,
    normalization: Normalization,
    context_slices: int,
    noise_scale_hu: float | None = None,
    **extra,
) -> dict:
    """The metadata of a checkpoint; `extra` holds training data, steps and validation figures.

    `noise_conditioning` is null, or {"scale_hu": s} for a network that reads its input's
    noise level over s HU as channel 0.
    """
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": architecture,
        "arch_args": dict(arch_args),
        "context_slices": int(context_slices),
        "normalization": normalization.to_dict(),
        "noise_conditioning": {"scale_hu": float(noise_scale_hu)} if noise_scale_hu else None,
        "ipv2_version": __version__,
        "torch_version": torch.__version__.split("+")[0],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }


def _cpu_state(state_dict: dict[str, torch.Tensor], half: bool) -> dict[str, torch.Tensor]:
    out = {}
    for key, tensor in state_dict.items():
        tensor = tensor.detach().to("cpu")
        if half and tensor.is_floating_point():
            tensor = tensor.half()
        out[key] = tensor.contiguous()
    return out


def save_checkpoint(path: PathLike, state_dict: dict[str, torch.Tensor], record: dict, half: bool = False) -> Path:
    """Writes weights and record atomically; `.safetensors` or any other suffix for a torch file.

    `half` stores floating-point weights as float16 (half the size; loading casts back).
    """
    path = Path(path)
    tensors = _cpu_state(state_dict, half)
    with atomic_output_path(path) as tmp:
        if path.suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(record)})
        else:
            torch.save({"format": FORMAT, "record": json.dumps(record), "state_dict": tensors}, tmp)
    return path


def save_training_state(path: PathLike, model_state: dict[str, torch.Tensor], record: dict, training: dict) -> Path:
    """Everything `--resume` needs; `training` holds optimiser, schedule, step and RNG states."""
    path = Path(path)
    with atomic_output_path(path) as tmp:
        torch.save(
            {
                "format": TRAINING_STATE_FORMAT,
                "record": json.dumps(record),
                "state_dict": _cpu_state(model_state, half=False),
                "training": training,
            },
            tmp,
        )
    return path


def _looks_like_safetensors(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(9)
    return len(head) == 9 and head[8:9] == b"{"


def _read_safetensors(path: Path):
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as error:  # the safetensors reader raises its own and OS error types
        raise CheckpointError(f"{path}: corrupt or truncated safetensors file ({error})") from None
    if METADATA_KEY not in metadata:
        raise CheckpointError(f"{path}: a safetensors file without an IPv2 record; not a model trained by ipv2")
    return metadata[METADATA_KEY], tensors, None


def _read_torch(path: Path):
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path}: not a model checkpoint (neither a safetensors nor a torch file), or the file is truncated"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own text advises turning the safe loader off: not advice to pass on.
        raise CheckpointError(
            f"{path}: holds Python objects other than tensors and plain values; refusing to unpickle it"
        ) from None
    except Exception as error:
        raise CheckpointError(f"{path}: corrupt or truncated torch file ({error})") from None
    if not isinstance(payload, dict) or payload.get("format") not in (FORMAT, TRAINING_STATE_FORMAT):
        raise CheckpointError(f"{path}: a torch file, but not an IPv2 model checkpoint")
    state_dict = payload.get("state_dict")
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(f"{path}: the checkpoint holds no weights")
    return payload.get("record"), state_dict, payload.get("training")


def read_checkpoint(path: PathLike):
    """The record, the weights and (for a training state) the training states of a file."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: a folder; give a checkpoint file (.safetensors or .pt)")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if os.path.getsize(path) == 0:
        raise CheckpointError(f"{path}: the checkpoint file is empty")
    reader = _read_safetensors if _looks_like_safetensors(path) else _read_torch
    record_text, state_dict, training = reader(path)
    try:
        record = json.loads(record_text)
    except (TypeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: the checkpoint record is not valid JSON") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{path}: the checkpoint record is not an IPv2 model record")
    version = record.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(
            f"{path}: format_version {json.dumps(version)[:20]} of the checkpoint record is not a positive integer"
        )
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer ipv2 (format {version}); this one reads format {FORMAT_VERSION}"
        )
    return record, state_dict, training


def _listing(items, limit: int = 3) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


@dataclass(frozen=True)
class _Settings:
    """What a record says about rebuilding its network, each value checked."""

    architecture: str
    arch_args: dict
    context_slices: int
    normalization: Normalization
    noise_scale_hu: float | None


def _settings(record: dict, source: str) -> _Settings:
    architecture = record.get("architecture")
    if not isinstance(architecture, str) or architecture not in MODEL_REGISTRY:
        raise CheckpointError(
            f"{source}: architecture '{str(architecture)[:40]}' is not one of {', '.join(MODEL_REGISTRY)}"
        )
    try:
        arch_args = require_arch_args(architecture, record.get("arch_args") or {}, "arch_args")
        context_slices = require_context_slices(record.get("context_slices", 0), "context_slices")
        normalization = Normalization.from_dict(record["normalization"])
        noise_scale_hu = _noise_scale(record.get("noise_conditioning"))
    except InputError as error:
        raise CheckpointError(f"{source}: the checkpoint record is invalid ({error})") from None
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{source}: incomplete checkpoint record ({error})") from None
    return _Settings(architecture, arch_args, context_slices, normalization, noise_scale_hu)


def _build(settings: _Settings, source: str) -> nn.Module:
    try:
        return build_model(
            settings.architecture,
            in_channels=in_channels(settings.context_slices, settings.noise_scale_hu),
            **settings.arch_args,
        )
    except (InputError, ValueError, TypeError) as error:
        raise CheckpointError(f"{source}: cannot rebuild the network ({error})") from None


def _require_matching_tensors(settings: _Settings, state_dict: dict[str, torch.Tensor], source: str) -> None:
    """The stored tensors against the shapes the recorded network needs, computed on the meta
    device (shapes only, no memory), and every stored value finite."""
    with torch.device("meta"):
        expected = {key: tuple(t.shape) for key, t in _build(settings, source).state_dict().items()}
    stored = {key: tuple(t.shape) for key, t in state_dict.items()}
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    reshaped = sorted(key for key in set(expected) & set(stored) if expected[key] != stored[key])
    if missing or unexpected or reshaped:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing ({_listing(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected ({_listing(unexpected)})")
        if reshaped:
            shapes = _listing(f"{key} {stored[key]} not {expected[key]}" for key in reshaped)
            parts.append(f"{len(reshaped)} of another shape ({shapes})")
        raise CheckpointError(
            f"{source}: the weights do not match a {settings.architecture} with arguments "
            f"{settings.arch_args}: " + "; ".join(parts)
        )
    bad = [
        key
        for key, tensor in state_dict.items()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]
    if bad:
        raise CheckpointError(
            f"{source}: {len(bad)} weight tensors hold NaN or infinite values "
            f"({_listing(bad)}); the model is corrupt or its training diverged"
        )


def model_from_record(record: dict, state_dict: dict[str, torch.Tensor], source: str = "") -> LoadedModel:
    """The network a record describes, with its weights; every record value and tensor shape is
    checked before the network is built."""
    settings = _settings(record, source)
    _require_matching_tensors(settings, state_dict, source)
    model = _build(settings, source)
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise CheckpointError(
            f"{source}: the weights do not match a {settings.architecture} with arguments "
            f"{settings.arch_args} ({str(error).splitlines()[0][:200]})"
        ) from None
    model.eval()
    return LoadedModel(
        model=model,
        architecture=settings.architecture,
        arch_args=settings.arch_args,
        normalization=settings.normalization,
        context_slices=settings.context_slices,
        metadata=record,
        source=source,
        noise_scale_hu=settings.noise_scale_hu,
    )


def _noise_scale(conditioning) -> float | None:
    if conditioning is None:
        return None
    if not isinstance(conditioning, dict):
        raise ValueError("noise_conditioning must be null or an object")
    scale = float(conditioning["scale_hu"])
    if not (scale > 0 and scale < float("inf")):
        raise ValueError(f"noise_conditioning scale {scale} must be a positive number")
    return scale


def load_checkpoint(path: PathLike) -> LoadedModel:
    """A model file (or training state) as a network on the CPU in eval mode.

    Raises CheckpointError for a missing, empty, corrupt, truncated or foreign file and for
    weights that do not fit the recorded architecture.
    """
    record, state_dict, _ = read_checkpoint(path)
    return model_from_record(record, state_dict, source=str(path))


def checkpoint_summary(path: PathLike) -> dict | None:
    """The record of a checkpoint whose record and tensor shapes check out, without building
    its network; None if it cannot be read or does not check out."""
    try:
        record, state_dict, _ = read_checkpoint(path)
        _require_matching_tensors(_settings(record, str(path)), state_dict, str(path))
    except CheckpointError:
        return None
    return record
