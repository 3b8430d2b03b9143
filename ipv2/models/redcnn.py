"""RED-CNN: residual encoder-decoder convolutional network for low-dose CT.

Chen et al., "Low-Dose CT with a Residual Encoder-Decoder Convolutional Neural Network",
IEEE TMI 2017. Five unpadded 5x5 convolutions shrink the image, five transposed
convolutions grow it back, and three shortcuts (input, after the second and the fourth
layer) carry detail across. The paper uses 96 filters per layer.
"""

from __future__ import annotations

import torch
from torch import nn

from ipv2.models._utils import Convolution, center_channel, he_layer, zero_layer

__all__ = ["REDCNN", "redcnn"]


class REDCNN(nn.Module):
    def __init__(self, in_channels: int = 1, width: int = 96, kernel_size: int = 5):
        super().__init__()
        self.in_channels = in_channels
        encoder = [nn.Conv2d(in_channels if i == 0 else width, width, kernel_size) for i in range(5)]
        decoder = [nn.ConvTranspose2d(width, 1 if i == 4 else width, kernel_size) for i in range(5)]
        self.encoder = nn.ModuleList(encoder)
        self.decoder = nn.ModuleList(decoder)
        # He initialisation keeps the signal's scale through the ten plain ReLU layers; with
        # PyTorch's default (variance 1/(3 fan-in)) the features reaching the last layer shrink
        # to little more than their biases, so their gradients sit near Adam's epsilon and the
        # network does not move from its starting point.
        followed_by_relu: list[Convolution] = [*encoder, *decoder[:4]]
        for layer in followed_by_relu:
            he_layer(layer)
        # Start as the identity: the last layer's output adds nothing to the input shortcut at first.
        zero_layer(decoder[4])
        self.relu = nn.ReLU(inplace=True)
        self.minimum_size = 5 * (kernel_size - 1) + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut_input = center_channel(x)
        out = self.relu(self.encoder[0](x))
        out = self.relu(self.encoder[1](out))
        shortcut_2 = out
        out = self.relu(self.encoder[2](out))
        out = self.relu(self.encoder[3](out))
        shortcut_4 = out
        out = self.relu(self.encoder[4](out))
        out = self.decoder[0](out) + shortcut_4
        out = self.decoder[1](self.relu(out))
        out = self.decoder[2](self.relu(out)) + shortcut_2
        out = self.decoder[3](self.relu(out))
        out = self.decoder[4](self.relu(out))
        return out + shortcut_input


def redcnn(**kwargs) -> REDCNN:
    return REDCNN(**kwargs)
