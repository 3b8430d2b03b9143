"""Training losses.

* `mse`: mean squared error. It is minimised by the conditional mean of the target, which
  averages the plausible images under the noise: fine vessels and fat planes blur.
* `l1`: mean absolute error, minimised by the conditional median: sharper, still smooths.
* `l1_grad`: L1 plus `GRADIENT_WEIGHT` times the L1 distance of the finite differences
  along x and y, |dx(y) - dx(t)| + |dy(y) - dy(t)|. Blurring an edge or a vessel changes
  its gradient more than its values, so this term keeps structure that the value terms
  trade away; it also penalises pixel-level texture (a checkerboard has large gradients).
"""

from __future__ import annotations

import torch
from torch import nn

from ipv2.contract import LOSSES

__all__ = ["GRADIENT_WEIGHT", "LOSSES", "L1WithGradient", "make_loss"]

GRADIENT_WEIGHT = 1.0


class L1WithGradient(nn.Module):
    def __init__(self, gradient_weight: float = GRADIENT_WEIGHT):
        super().__init__()
        self.gradient_weight = gradient_weight

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        def differences(image: torch.Tensor):
            return image[..., :, 1:] - image[..., :, :-1], image[..., 1:, :] - image[..., :-1, :]

        value = torch.mean(torch.abs(prediction - target))
        (pred_x, pred_y), (target_x, target_y) = differences(prediction), differences(target)
        gradient = torch.mean(torch.abs(pred_x - target_x)) + torch.mean(torch.abs(pred_y - target_y))
        return value + self.gradient_weight * gradient


def make_loss(name: str) -> nn.Module:
    if name == "l1":
        return nn.L1Loss()
    if name == "mse":
        return nn.MSELoss()
    if name == "l1_grad":
        return L1WithGradient()
    raise ValueError(f"unknown loss '{name}'")
