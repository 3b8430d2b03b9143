"""Choosing the torch device: GPU when present, CPU otherwise."""

from __future__ import annotations

import torch

from ipv2.contract import DEFAULT_DEVICE
from ipv2.device_names import require_device_name
from ipv2.errors import InputError


def resolve_device(name: str = DEFAULT_DEVICE) -> torch.device:
    """`auto` takes CUDA when available; asking for CUDA on a machine without it is an error."""
    name = require_device_name(name or DEFAULT_DEVICE)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise InputError(f"device '{name}' was asked for, but no CUDA GPU is available here; use --device cpu or auto")
    if name != "cuda" and int(name[5:]) >= torch.cuda.device_count():
        raise InputError(
            f"device '{name}' was asked for, but this machine has {torch.cuda.device_count()} "
            f"GPU(s), cuda:0 to cuda:{torch.cuda.device_count() - 1}"
        )
    return torch.device(name)
