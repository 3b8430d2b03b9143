import os
import shutil
import subprocess
import sys

import pytest
import torch

from ipv2.models.checkpoint import load_checkpoint
from tests.support.training_pairs import write_training_pair


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun is not on the PATH")
def test_two_processes_train_like_one_with_the_whole_batch(tmp_path):
    pair = write_training_pair(tmp_path / "scan")
    common = [
        "train",
        "--data",
        str(pair),
        "--model",
        "unet",
        "--model-arg",
        "widths=[4,8]",
        "--steps",
        "3",
        "--patch",
        "24",
        "--device",
        "cpu",
        "--progress",
        "none",
        "--seed",
        "2",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [
            "torchrun",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "ipv2",
            *common,
            "--batch",
            "2",
            "--out",
            str(tmp_path / "ddp.safetensors"),
        ],
        check=True,
        env=env,
        capture_output=True,
        timeout=240,
    )
    subprocess.run(
        [sys.executable, "-m", "ipv2", *common, "--batch", "4", "--out", str(tmp_path / "one.safetensors")],
        check=True,
        env=env,
        capture_output=True,
        timeout=240,
    )
    distributed = load_checkpoint(tmp_path / "ddp.safetensors")
    single = load_checkpoint(tmp_path / "one.safetensors")
    assert distributed.metadata["training"]["world_size"] == 2
    for key, value in single.model.state_dict().items():
        torch.testing.assert_close(distributed.model.state_dict()[key], value, rtol=1e-5, atol=1e-6)
