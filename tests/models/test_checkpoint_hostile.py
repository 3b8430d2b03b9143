"""Untrusted checkpoints: every record value and tensor shape is checked before a network is
built, non-finite weights and outputs are refused, and `ipv2 models` lists only readable files."""

import json

import numpy as np
import pytest
import torch
from torch import nn

import ipv2.models.checkpoint as checkpoint
from ipv2.cli.main import main
from ipv2.denoise.inference import denoise_volume
from ipv2.errors import CheckpointError
from ipv2.io import write_volume
from ipv2.models import build_model
from ipv2.models.checkpoint import LoadedModel, load_checkpoint, model_record, save_checkpoint
from ipv2.models.normalization import Normalization
from ipv2.testing import chest_like
from ipv2.volume import Volume

TINY = {"widths": [4, 8]}


def _save(path, record_changes=None, state=None, architecture="unet", args=TINY):
    torch.manual_seed(0)
    state = state if state is not None else build_model(architecture, **args).state_dict()
    record = model_record(architecture, args, Normalization.for_kind("hu"), 0)
    record.update(record_changes or {})
    return save_checkpoint(path, state, record)


@pytest.fixture
def builds(monkeypatch):
    """The device of every network the checkpoint reader builds."""
    devices = []
    original = checkpoint.build_model

    def recording(*args, **kwargs):
        model = original(*args, **kwargs)
        devices.append(next(model.parameters()).device.type)
        return model

    monkeypatch.setattr(checkpoint, "build_model", recording)
    return devices


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"arch_args": {"widths": "abc"}}, 'widths="abc" for unet must be a list of integers'),
        ({"arch_args": {"widths": [4, True]}}, "must be a list of integers"),
        ({"arch_args": {"widths": [1 << 20, 1 << 21]}}, "must be from 1 to 1024"),
        ({"arch_args": {"widths": [4] * 40}}, "lists 40 values"),
        ({"arch_args": {"depth_of_field": 3}}, "takes no argument 'depth_of_field'"),
        ({"arch_args": [4, 8]}, "must be an object"),
        ({"context_slices": -3}, "context_slices -3 must be an integer from 0 to 16"),
        ({"context_slices": "2"}, 'context_slices "2" must be an integer'),
        ({"format_version": "x"}, 'format_version "x"'),
        ({"format_version": True}, "format_version true"),
        ({"architecture": ["unet"]}, "architecture"),
    ],
)
def test_bad_record_values_are_refused_before_any_network_is_built(tmp_path, builds, changes, message):
    path = _save(tmp_path / "m.safetensors", changes)
    with pytest.raises(CheckpointError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_checkpoint(path)
    assert builds == []


def test_huge_widths_matching_no_tensor_are_refused_on_the_meta_device(tmp_path, builds):
    # Within the bounds, but a real 1024-wide U-Net would take hundreds of MB.
    path = _save(tmp_path / "m.safetensors", {"arch_args": {"widths": [1024, 1024, 1024]}})
    with pytest.raises(CheckpointError, match=r"do not match a unet .*of another shape"):
        load_checkpoint(path)
    assert builds and set(builds) == {"meta"}


def test_missing_and_extra_tensors_are_named_briefly(tmp_path):
    state = build_model("unet", **TINY).state_dict()
    state.pop("head.bias")
    state["stray.weight"] = torch.zeros(3)
    with pytest.raises(CheckpointError, match=r"1 missing \(head.bias\); 1 unexpected \(stray.weight\)"):
        load_checkpoint(_save(tmp_path / "m.pt", state=state))


def test_non_finite_weights_are_refused(tmp_path):
    state = build_model("unet", **TINY).state_dict()
    state["head.weight"] = torch.full_like(state["head.weight"], float("nan"))
    state["head.bias"] = torch.full_like(state["head.bias"], float("inf"))
    with pytest.raises(CheckpointError, match="2 weight tensors hold NaN or infinite values"):
        load_checkpoint(_save(tmp_path / "nan.safetensors", state=state))


class _Diverged(nn.Module):
    in_channels = 1

    def forward(self, x):
        return x * float("nan")


def test_nan_network_output_is_refused_and_nothing_written(tmp_path, capsys, monkeypatch):
    volume = Volume(chest_like((3, 32, 32)), spacing=(0.7, 0.7, 2.5))
    loaded = LoadedModel(_Diverged(), "unet", {}, Normalization.for_kind("hu"))
    with pytest.raises(CheckpointError, match="NaN or infinite values for slices 0..2"):
        denoise_volume(volume, model=loaded, device="cpu")
    import ipv2.denoise.denoisers as denoisers  # what `ipv2 denoise --model NAME` runs a network with

    monkeypatch.setattr(
        denoisers, "denoise_volume", lambda volume, model, **kwargs: denoise_volume(volume, model=loaded, **kwargs)
    )
    scan = write_volume(volume, tmp_path / "scan.nrrd")
    out = tmp_path / "out.nrrd"
    code = main(["denoise", "--in", str(scan), "--out", str(out), "--device", "cpu", "--progress", "none"])
    assert code == 2 and "NaN or infinite" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == [scan]


def test_folder_given_as_a_model_is_named_a_folder(tmp_path):
    with pytest.raises(CheckpointError, match="a folder; give a checkpoint file"):
        load_checkpoint(tmp_path)


def test_models_lists_only_files_whose_record_reads(tmp_path, monkeypatch, capsys):
    (tmp_path / "unet.safetensors").write_bytes(np.random.default_rng(0).bytes(4096))
    _save(tmp_path / "redcnn.safetensors", architecture="dncnn", args={"depth": 3, "width": 4})
    _save(tmp_path / "dncnn.safetensors", architecture="dncnn", args={"depth": 3, "width": 4})
    _save(tmp_path / "restormer.safetensors", {"arch_args": {"width": "wide"}}, architecture="unet")
    monkeypatch.setenv("IPV2_MODELS_DIR", str(tmp_path))
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["models"]}
    assert rows["dncnn"]["bundled_weights"] == str(tmp_path / "dncnn.safetensors")
    assert rows["dncnn"]["params"] == sum(t.numel() for t in build_model("dncnn", depth=3, width=4).parameters())
    assert rows["unet"]["bundled_weights"] is None
    assert rows["redcnn"]["bundled_weights"] is None  # holds a dncnn
    assert rows["restormer"]["bundled_weights"] is None
