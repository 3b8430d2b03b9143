"""`ipv2 train --device` takes what the contract promises, cuda:N included, and refuses the rest
before any work."""

import pytest
import torch

from ipv2.cli.main import build_parser
from ipv2.cli.train import config_from_args
from ipv2.errors import InputError
from ipv2.training.distributed import setup_distributed


def _config(*device):
    args = build_parser().parse_args(["train", "--data", "pairs", "--out", "model.pt", *device])
    return config_from_args(args)


def test_one_gpu_of_several_is_taken_from_the_command_line_to_the_training_device(monkeypatch):
    config = _config("--device", "CUDA:1").checked()
    assert config.device == "cuda:1"
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert setup_distributed(config.device).device == torch.device("cuda:1")
    with pytest.raises(InputError, match="has 2 GPU"):
        setup_distributed("cuda:2")


def test_the_default_device_is_the_contracts():
    from ipv2.contract import DEFAULT_DEVICE

    assert _config().checked().device == DEFAULT_DEVICE


@pytest.mark.parametrize("bad", ["gpu", "cuda:x"])
def test_a_config_refuses_a_device_the_parser_would_refuse(bad):
    from ipv2.training import TrainConfig

    with pytest.raises(InputError, match=rf"^--device '{bad}' is unknown; choose one of auto, cpu, cuda or cuda:N$"):
        TrainConfig(data=["pairs"], out="model.pt", device=bad).checked()
