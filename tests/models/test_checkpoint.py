import json

import pytest
import torch

from ipv2.errors import CheckpointError
from ipv2.models import build_model
from ipv2.models.checkpoint import load_checkpoint, model_record, read_checkpoint, save_checkpoint, save_training_state
from ipv2.models.normalization import Normalization

ARGS = {"widths": [4, 8]}


def _saved(tmp_path, suffix=".safetensors", half=False, args=ARGS, architecture="unet"):
    torch.manual_seed(0)
    model = build_model("unet", **ARGS)
    record = model_record(architecture, args, Normalization.for_kind("hu"), 0, steps=3)
    path = save_checkpoint(tmp_path / f"model{suffix}", model.state_dict(), record, half=half)
    return model, path


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_round_trip_gives_the_same_network(tmp_path, suffix):
    model, path = _saved(tmp_path, suffix)
    loaded = load_checkpoint(path)
    x = torch.rand(1, 1, 24, 24)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), model.eval()(x))
    assert loaded.architecture == "unet" and loaded.arch_args == ARGS
    assert loaded.normalization == Normalization.for_kind("hu")
    assert loaded.metadata["steps"] == 3 and loaded.metadata["ipv2_version"]


def test_half_precision_storage_is_smaller_and_close(tmp_path):
    model, full = _saved(tmp_path / "full")
    _, half = _saved(tmp_path / "half", half=True)
    assert half.stat().st_size < 0.7 * full.stat().st_size
    x = torch.rand(1, 1, 24, 24)
    with torch.no_grad():
        torch.testing.assert_close(load_checkpoint(half).model(x), model.eval()(x), atol=2e-3, rtol=1e-2)


def test_training_state_loads_as_a_model(tmp_path):
    model = build_model("unet", **ARGS)
    record = model_record("unet", ARGS, Normalization.for_kind("hu"), 0)
    optimizer = torch.optim.AdamW(model.parameters())
    path = save_training_state(
        tmp_path / "run.train-state.pt", model.state_dict(), record, {"optimizer": optimizer.state_dict(), "step": 7}
    )
    _, _, training = read_checkpoint(path)
    assert training["step"] == 7
    assert load_checkpoint(path).architecture == "unet"


def test_missing_and_empty_files_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "absent.safetensors")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(tmp_path / "empty.pt")


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "noise.safetensors"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_truncated_files_are_refused(tmp_path, suffix):
    _, path = _saved(tmp_path, suffix)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated|truncated"):
        load_checkpoint(path)


def test_foreign_safetensors_without_record_is_refused(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path))
    with pytest.raises(CheckpointError, match="without an IPv2 record"):
        load_checkpoint(path)


def test_foreign_torch_file_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="not an IPv2 model checkpoint"):
        load_checkpoint(path)


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_objects_are_never_unpickled(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "ipv2-model", "record": "{}", "state_dict": {}, "extra": Payload()}, path)
    with pytest.raises(CheckpointError, match="refusing to unpickle"):
        load_checkpoint(path)
    assert "this must never run" not in capsys.readouterr().out


def test_weights_of_another_width_are_refused(tmp_path):
    _, path = _saved(tmp_path, args={"widths": [8, 16]})
    with pytest.raises(CheckpointError, match="do not match a unet"):
        load_checkpoint(path)


def test_weights_of_another_architecture_are_refused(tmp_path):
    _, path = _saved(tmp_path, args={"depth": 5, "width": 8}, architecture="dncnn")
    with pytest.raises(CheckpointError, match="do not match a dncnn"):
        load_checkpoint(path)


def test_unknown_architecture_is_refused(tmp_path):
    _, path = _saved(tmp_path, architecture="gan")
    with pytest.raises(CheckpointError, match="architecture 'gan'"):
        load_checkpoint(path)


def test_record_is_plain_json(tmp_path):
    _, path = _saved(tmp_path)
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        record = json.loads(handle.metadata()["ipv2"])
    assert record["format"] == "ipv2-model"
    assert record["normalization"] == {"kind": "hu", "low": -1024.0, "high": 2048.0}
