"""A compact Restormer: an encoder-decoder of transformer blocks for image restoration.

Zamir et al., "Restormer: Efficient Transformer for High-Resolution Image Restoration",
CVPR 2022. Attention runs across channels rather than pixels (multi-Dconv head transposed
attention), so its cost grows linearly with the image size; the feed-forward part is a gated
depthwise-convolution network. This version keeps three levels and few blocks so that it
trains on modest hardware.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ipv2.models._utils import center_channel, pad_to_multiple, zero_layer

__all__ = ["Restormer", "restormer"]


class ChannelLayerNorm(nn.Module):
    """Layer normalisation over the channels of each pixel."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class TransposedAttention(nn.Module):
    def __init__(self, channels: int, heads: int):
        super().__init__()
        if channels % heads:
            raise ValueError(f"{channels} channels do not split into {heads} heads")
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(channels, 3 * channels, 1, bias=False)
        self.qkv_local = nn.Conv2d(3 * channels, 3 * channels, 3, padding=1, groups=3 * channels, bias=False)
        self.project = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        q, k, v = self.qkv_local(self.qkv(x)).chunk(3, dim=1)
        shape = (batch, self.heads, channels // self.heads, height * width)
        q, k, v = q.reshape(shape), k.reshape(shape), v.reshape(shape)
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attention = (q @ k.transpose(-2, -1) * self.temperature).softmax(dim=-1)
        out = (attention @ v).reshape(batch, channels, height, width)
        return self.project(out)


class GatedFeedForward(nn.Module):
    def __init__(self, channels: int, expansion: float):
        super().__init__()
        hidden = int(channels * expansion)
        self.expand = nn.Conv2d(channels, 2 * hidden, 1, bias=False)
        self.local = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden, bias=False)
        self.project = nn.Conv2d(hidden, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, value = self.local(self.expand(x)).chunk(2, dim=1)
        return self.project(F.gelu(gate) * value)


class TransformerBlock(nn.Module):
    def __init__(self, channels: int, heads: int, expansion: float):
        super().__init__()
        self.norm_attention = ChannelLayerNorm(channels)
        self.attention = TransposedAttention(channels, heads)
        self.norm_feed_forward = ChannelLayerNorm(channels)
        self.feed_forward = GatedFeedForward(channels, expansion)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm_attention(x))
        return x + self.feed_forward(self.norm_feed_forward(x))


def _stage(channels: int, heads: int, blocks: int, expansion: float) -> nn.Sequential:
    return nn.Sequential(*[TransformerBlock(channels, heads, expansion) for _ in range(blocks)])


class Restormer(nn.Module):
    def __init__(
        self,
        in_channels: int = 1,
        width: int = 24,
        blocks: Sequence[int] = (2, 2, 4),
        heads: Sequence[int] = (1, 2, 4),
        refinement_blocks: int = 2,
        expansion: float = 2.0,
    ):
        super().__init__()
        blocks, heads = [int(b) for b in blocks], [int(h) for h in heads]
        if len(blocks) != len(heads) or len(blocks) < 2:
            raise ValueError(f"blocks {blocks} and heads {heads} must list the same number (>= 2) of levels")
        self.in_channels = in_channels
        self.multiple = 2 ** (len(blocks) - 1)
        levels = len(blocks)
        channels = [width * 2**level for level in range(levels)]
        self.embed = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        for level in range(levels):
            self.encoders.append(_stage(channels[level], heads[level], blocks[level], expansion))
            if level < levels - 1:
                # Halve the channels, then fold 2x2 pixels into channels: twice as many, a quarter the size.
                self.downs.append(
                    nn.Sequential(
                        nn.Conv2d(channels[level], channels[level] // 2, 3, padding=1, bias=False), nn.PixelUnshuffle(2)
                    )
                )
        self.ups = nn.ModuleList()
        self.fuses = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for level in reversed(range(levels - 1)):
            self.ups.append(
                nn.Sequential(
                    nn.Conv2d(channels[level + 1], channels[level + 1] * 2, 3, padding=1, bias=False),
                    nn.PixelShuffle(2),
                )
            )
            self.fuses.append(nn.Conv2d(2 * channels[level], channels[level], 1, bias=False))
            self.decoders.append(_stage(channels[level], heads[level], blocks[level], expansion))
        self.refinement = _stage(width, heads[0], refinement_blocks, expansion)
        self.head = nn.Conv2d(width, 1, 3, padding=1, bias=False)
        # Start as the identity: training learns the correction from zero.
        zero_layer(self.head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded, (height, width) = pad_to_multiple(x, self.multiple)
        out = self.embed(padded)
        skips = []
        for level, encoder in enumerate(self.encoders):
            out = encoder(out)
            if level < len(self.downs):
                skips.append(out)
                out = self.downs[level](out)
        for up, fuse, decoder in zip(self.ups, self.fuses, self.decoders):
            out = decoder(fuse(torch.cat([up(out), skips.pop()], dim=1)))
        correction = self.head(self.refinement(out))[..., :height, :width]
        return center_channel(x) + correction


def restormer(**kwargs) -> Restormer:
    return Restormer(**kwargs)
