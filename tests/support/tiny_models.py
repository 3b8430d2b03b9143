"""A tiny U-Net with a non-zero correction, in memory or saved as a checkpoint: quick to run, and
its output differs from its input."""

import torch

from ipv2.models import build_model
from ipv2.models.checkpoint import LoadedModel, model_record, save_checkpoint
from ipv2.models.normalization import Normalization

TINY_UNET_ARGS = {"widths": [4, 8]}


def tiny_unet(context_slices=0):
    torch.manual_seed(1)
    model = build_model("unet", in_channels=1 + 2 * context_slices, **TINY_UNET_ARGS)
    torch.nn.init.normal_(model.head.weight, std=0.1)  # a trained network's correction is not zero
    return LoadedModel(
        model=model.eval(),
        architecture="unet",
        arch_args=TINY_UNET_ARGS,
        normalization=Normalization.for_kind("hu"),
        context_slices=context_slices,
    )


def save_tiny_checkpoint(folder):
    loaded = tiny_unet()
    record = model_record("unet", TINY_UNET_ARGS, loaded.normalization, 0)
    return save_checkpoint(folder / "tiny.safetensors", loaded.model.state_dict(), record)
