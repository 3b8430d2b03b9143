"""`--device` takes what the contract promises: auto, cpu, cuda and cuda:N."""

import argparse

import pytest
import torch

from ipv2.cli.common import add_device_option
from ipv2.device import resolve_device
from ipv2.errors import InputError


def _parse(*argv):
    parser = argparse.ArgumentParser()
    add_device_option(parser)
    return parser.parse_args(list(argv)).device


@pytest.mark.parametrize("text, expected", [("auto", "auto"), ("CPU", "cpu"), ("cuda", "cuda"), ("cuda:1", "cuda:1")])
def test_the_contracts_devices_parse(text, expected):
    assert _parse("--device", text) == expected


@pytest.mark.parametrize("bad", ["gpu", "cuda1", "cuda:", "cuda:x", "cuda:-1"])
def test_other_devices_are_refused_by_the_parser(bad, capsys):
    with pytest.raises(SystemExit):
        _parse("--device", bad)
    assert "is not a device" in capsys.readouterr().err


def test_a_gpu_index_beyond_the_machines_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(InputError, match="has 2 GPU"):
        resolve_device("cuda:2")


def test_cuda_without_a_gpu_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError, match="no CUDA GPU"):
        resolve_device("cuda:0")


@pytest.mark.parametrize("bad", ["cuda:x", "gpu"])
def test_purify_options_refuse_what_the_parser_refuses(bad):
    from ipv2.purify.options import PurifyOptions

    with pytest.raises(InputError, match="device"):
        PurifyOptions(device=bad).checked()
    assert PurifyOptions(device="cuda:1").checked().device == "cuda:1"
