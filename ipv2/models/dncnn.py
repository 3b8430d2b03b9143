"""DnCNN: a plain stack of convolutions that predicts the noise and subtracts it.

Zhang et al., "Beyond a Gaussian Denoiser: Residual Learning of Deep CNN for Image
Denoising", IEEE TIP 2017. 17 layers of 64 filters, batch normalisation in the middle ones.
"""

from __future__ import annotations

import torch
from torch import nn

from ipv2.models._utils import center_channel, zero_layer

__all__ = ["DnCNN", "dncnn"]


class DnCNN(nn.Module):
    def __init__(self, in_channels: int = 1, depth: int = 17, width: int = 64, batch_norm: bool = True):
        super().__init__()
        if depth < 3:
            raise ValueError(f"DnCNN needs at least 3 layers, got depth={depth}")
        self.in_channels = in_channels
        layers = [nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers.append(nn.Conv2d(width, width, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.ReLU(inplace=True))
        last = nn.Conv2d(width, 1, 3, padding=1)
        layers.append(last)
        self.body = nn.Sequential(*layers)
        # Start as the identity (no noise predicted): training learns the noise from zero.
        zero_layer(last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return center_channel(x) - self.body(x)


def dncnn(**kwargs) -> DnCNN:
    return DnCNN(**kwargs)
