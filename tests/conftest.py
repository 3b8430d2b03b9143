import numpy as np
import pytest

from ipv2.io import write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume


@pytest.fixture
def ct_volume() -> Volume:
    return Volume(
        chest_like(), spacing=(0.7, 0.7, 2.5), origin=(-20.0, 10.0, 5.0), direction=(1, 0, 0, 0, -1, 0, 0, 0, 1)
    )


@pytest.fixture
def pair_dir(tmp_path):
    """A training pair folder: a noisy chest-like volume and its clean target."""
    folder = tmp_path / "scan"
    clean = chest_like((4, 48, 48), seed=0)
    noisy = clean + np.random.default_rng(1).normal(0, 120, clean.shape).astype(np.float32)
    write_volume(Volume(noisy, spacing=(0.7, 0.7, 2.5)), folder / "train_input.nrrd")
    write_volume(Volume(clean, spacing=(0.7, 0.7, 2.5)), folder / "train_target.nrrd")
    return folder
