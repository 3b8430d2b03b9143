"""Small pieces shared by the model files."""

from __future__ import annotations

from typing import Union

import torch
import torch.nn.functional as F
from torch import nn

Convolution = Union[nn.Conv2d, nn.ConvTranspose2d]


def center_channel(x: torch.Tensor) -> torch.Tensor:
    """The slice being denoised when neighbouring slices are stacked as channels (2.5D)."""
    return x[:, x.shape[1] // 2 : x.shape[1] // 2 + 1]


def zero_layer(layer: Convolution) -> None:
    """Zero weights and bias (where the layer has one): at first the layer outputs nothing."""
    nn.init.zeros_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def he_layer(layer: Convolution) -> None:
    """He-normal weights for a layer followed by a ReLU, zero bias."""
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def pad_to_multiple(x: torch.Tensor, multiple: int):
    """Reflect-pads height and width up to a multiple; returns the padded tensor and the crop."""
    height, width = x.shape[-2:]
    pad_h = (-height) % multiple
    pad_w = (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return x, (height, width)
    # Reflection needs the pad to be smaller than the side; replicate covers tiny inputs.
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode), (height, width)
