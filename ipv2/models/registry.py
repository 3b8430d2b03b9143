"""The denoising networks this package can train and apply, by name."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from ipv2.contract import DEFAULT_MODEL, NETWORKS
from ipv2.errors import InputError, require_choice
from ipv2.models.dncnn import dncnn
from ipv2.models.redcnn import redcnn
from ipv2.models.restormer import restormer
from ipv2.models.unet import unet

__all__ = [
    "ModelSpec",
    "MODEL_REGISTRY",
    "DEFAULT_MODEL",
    "build_model",
    "model_spec",
    "count_parameters",
    "gflops_per_slice",
]

SLICE_SIZE = 512


@dataclass(frozen=True)
class ModelSpec:
    name: str
    builder: Callable[..., nn.Module]
    description: str
    reference: str
    default_args: dict[str, object] = field(default_factory=dict)

    def build(self, **kwargs) -> nn.Module:
        return self.builder(**{**self.default_args, **kwargs})


MODEL_REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "unet",
            unet,
            "compact residual U-Net, the fast default for CPU",
            "Ronneberger et al., MICCAI 2015",
            {"widths": [12, 24, 48, 96]},
        ),
        ModelSpec(
            "redcnn",
            redcnn,
            "residual encoder-decoder CNN for low-dose CT",
            "Chen et al., IEEE TMI 2017",
            {"width": 96},
        ),
        ModelSpec(
            "dncnn",
            dncnn,
            "plain CNN that predicts the noise and subtracts it",
            "Zhang et al., IEEE TIP 2017",
            {"depth": 17, "width": 64},
        ),
        ModelSpec(
            "restormer",
            restormer,
            "compact Restormer: transformer with channel attention",
            "Zamir et al., CVPR 2022",
            {"width": 24, "blocks": [2, 2, 4], "heads": [1, 2, 4], "refinement_blocks": 2},
        ),
    )
}


def model_spec(name: str) -> ModelSpec:
    key = (name or "").lower()
    return MODEL_REGISTRY[require_choice(key, NETWORKS, "model", shown=name)]


def build_model(name: str = DEFAULT_MODEL, **kwargs) -> nn.Module:
    """A freshly initialised network; keyword arguments override the registered defaults."""
    spec = model_spec(name)
    try:
        return spec.build(**kwargs)
    except TypeError as error:
        raise InputError(f"model '{name}': bad arguments {kwargs} ({error})") from None


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def gflops_per_slice(model: nn.Module, size: int = SLICE_SIZE, in_channels: int | None = None) -> float:
    """Floating-point operations (2 per multiply-add) of one forward pass on a size x size slice.

    Counted on a copy of the network on the meta device: shapes only, no arithmetic.
    """
    from torch.utils.flop_counter import FlopCounterMode

    channels = in_channels if in_channels is not None else getattr(model, "in_channels", 1)
    probe = copy.deepcopy(model).to("meta").eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        probe(torch.zeros(1, channels, size, size, device="meta"))
    return counter.get_total_flops() / 1e9
