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
