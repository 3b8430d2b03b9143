"""A compact residual U-Net: the fast default for denoising whole volumes on a CPU.

Four resolution levels with two 3x3 convolutions each, strided convolutions down,
transposed convolutions up and skip connections by concatenation (Ronneberger et al., MICCAI
2015), predicting a correction that is added to the input slice. Narrow levels keep it near
10 GFLOPs per 512x512 slice.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ipv2.models._utils import center_channel, pad_to_multiple, zero_layer

__all__ = ["ResidualUNet", "unet"]


def _double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.LeakyReLU(0.1, inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.LeakyReLU(0.1, inplace=True),
    )


class ResidualUNet(nn.Module):
    def __init__(self, in_channels: int = 1, widths: Sequence[int] = (12, 24, 48, 96)):
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) < 2:
            raise ValueError(f"a U-Net needs at least two levels, got widths={widths}")
        self.in_channels = in_channels
        self.multiple = 2 ** (len(widths) - 1)
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        previous = in_channels
        for level, width in enumerate(widths):
            if level > 0:
                self.downs.append(nn.Conv2d(previous, previous, 2, stride=2))
            self.encoders.append(_double_conv(previous, width))
            previous = width
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for width in reversed(widths[:-1]):
            self.ups.append(nn.ConvTranspose2d(previous, width, 2, stride=2))
            self.decoders.append(_double_conv(2 * width, width))
            previous = width
        self.head = nn.Conv2d(previous, 1, 1)
        # Start as the identity: training learns the correction from zero.
        zero_layer(self.head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded, (height, width) = pad_to_multiple(x, self.multiple)
        skips = []
        out = padded
        for level, encoder in enumerate(self.encoders):
            if level > 0:
                out = self.downs[level - 1](out)
            out = encoder(out)
            skips.append(out)
        skips.pop()
        for up, decoder in zip(self.ups, self.decoders):
            out = decoder(torch.cat([up(out), skips.pop()], dim=1))
        correction = self.head(out)[..., :height, :width]
        return center_channel(x) + correction


def unet(**kwargs) -> ResidualUNet:
    return ResidualUNet(**kwargs)
