"""Messages stay short and say what to do: long lists are cut, foreign advice is not passed on."""

import numpy as np
import pytest
import torch

from ipv2.cli.main import main
from ipv2.errors import CheckpointError, InputError
from ipv2.evaluate.report import region_masks_from_labelmap
from ipv2.io import write_volume
from ipv2.models import build_model
from ipv2.models.checkpoint import load_checkpoint, model_record, save_checkpoint
from ipv2.models.normalization import Normalization
from ipv2.testing import chest_like
from ipv2.volume import Volume


def test_a_labelmap_of_another_kind_is_named_with_a_few_of_its_values():
    labelmap = np.arange(10_000, dtype=np.int32).reshape(10, 10, 100)  # labels 0..9999, 0..2 known
    with pytest.raises(InputError) as refused:
        region_masks_from_labelmap(labelmap, "masks.nrrd")
    message = str(refused.value)
    assert "unexpected label values 3, 4, 5, 6, 7 and 9,992 more;" in message
    assert len(message) < 200


def test_weights_of_another_network_are_named_with_a_few_keys(tmp_path):
    state = build_model("dncnn", depth=20, width=4).state_dict()  # dozens of keys a unet lacks
    record = model_record("unet", {"widths": [4, 8]}, Normalization.for_kind("hu"), 0)
    path = save_checkpoint(tmp_path / "m.safetensors", state, record)
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(path)
    message = str(refused.value)
    assert "more" in message and len(message) < 600
    assert message.count("weight") + message.count("bias") <= 8


class _Payload:
    def __reduce__(self):
        return (print, ("never run",))


def test_torch_refusal_reaches_the_user_without_escapes_or_advice_to_unpickle(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "ipv2-model", "record": "{}", "state_dict": {}, "extra": _Payload()}, path)
    scan = write_volume(Volume(chest_like((2, 32, 32))), tmp_path / "scan.nrrd")
    assert (
        main(
            [
                "denoise",
                "--model",
                str(path),
                "--in",
                str(scan),
                "--out",
                str(tmp_path / "o.nrrd"),
                "--device",
                "cpu",
                "--progress",
                "none",
            ]
        )
        == 2
    )
    captured = capsys.readouterr()
    assert "refusing to unpickle" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert "\x1b" not in captured.err and "weights_only" not in captured.err
    assert "never run" not in captured.out


def test_a_folder_given_as_the_model_is_called_a_folder(tmp_path, capsys):
    scan = write_volume(Volume(chest_like((2, 32, 32))), tmp_path / "scan.nrrd")
    (tmp_path / "models").mkdir()
    assert (
        main(
            [
                "denoise",
                "--model",
                str(tmp_path / "models"),
                "--in",
                str(scan),
                "--out",
                str(tmp_path / "o.nrrd"),
                "--device",
                "cpu",
                "--progress",
                "none",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "models: a folder; give a checkpoint file (.safetensors or .pt)" in err
    assert "no such" not in err


@pytest.mark.parametrize("dose", ["0", "-0.5", "1.5", "nan"])
def test_input_dose_out_of_range_is_called_the_input_s_own_dose(tmp_path, capsys, dose):
    scan = write_volume(Volume(chest_like((2, 32, 32))), tmp_path / "scan.nrrd")
    assert (
        main(
            [
                "simulate",
                "--in",
                str(scan),
                "--out",
                str(tmp_path / "o.nrrd"),
                "--input-dose",
                dose,
                "--progress",
                "none",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert f"--input-dose {float(dose):g}: the input's own dose" in err and "(1 for a normal-dose scan)" in err
    assert "dose fraction 0" not in err and not (tmp_path / "o.nrrd").exists()
