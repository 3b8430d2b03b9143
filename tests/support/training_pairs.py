"""A training pair folder as `ipv2 train` reads it: a noisy chest-like volume and its clean target."""

import numpy as np

from ipv2.io import write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume


def write_training_pair(folder, seed=0, shape=(4, 48, 48)):
    clean = chest_like(shape, seed=seed)
    noisy = clean + np.random.default_rng(seed + 100).normal(0, 120, clean.shape).astype(np.float32)
    write_volume(Volume(noisy, spacing=(0.7, 0.7, 2.5)), folder / "train_input.nrrd")
    write_volume(Volume(clean, spacing=(0.7, 0.7, 2.5)), folder / "train_target.nrrd")
    return folder


# A network and patches small enough that a few training steps take a second on the CPU.
TINY_NETWORK_ARGS = ["--model-arg", "widths=[4,8]", "--patch", "24", "--batch", "2", "--device", "cpu"]


def tiny_train_argv(data, out, steps, progress="none", *more):
    """`ipv2 train` arguments of a tiny run from the pair folder `data` to the model file `out`."""
    return [
        "train",
        "--data",
        str(data),
        "--out",
        str(out),
        "--steps",
        str(steps),
        *TINY_NETWORK_ARGS,
        "--progress",
        progress,
        *more,
    ]
