import logging

import numpy as np
import pytest
import torch

import ipv2.denoise.inference as inference
from ipv2.cli.main import main
from ipv2.errors import CheckpointError, InputError
from ipv2.io import read_volume, write_volume
from ipv2.models.checkpoint import LoadedModel
from ipv2.volume import Volume
from tests.support.tiny_models import TINY_UNET_ARGS, save_tiny_checkpoint, tiny_unet


def _identity_loaded():
    """A network whose correction is zero: what comes out must be exactly what went in."""
    loaded = tiny_unet()
    torch.nn.init.zeros_(loaded.model.head.weight)
    torch.nn.init.zeros_(loaded.model.head.bias)
    return loaded


def test_denoised_volume_keeps_geometry_and_hu(ct_volume):
    before = ct_volume.array.copy()
    result = inference.denoise_volume(ct_volume, model=_identity_loaded(), device="cpu")
    assert result.same_geometry(ct_volume)
    assert result.array.dtype == np.float32
    np.testing.assert_array_equal(ct_volume.array, before)  # the input is not modified
    # Normalising into the network and back loses no HU.
    np.testing.assert_allclose(result.array, ct_volume.array, atol=0.05)


def test_values_outside_the_window_pass_through(ct_volume):
    array = ct_volume.array.copy()
    array[:, :4, :] = -2048.0  # reconstruction padding
    array[:, -4:, :] = 2500.0  # metal above the window
    result = inference.denoise_volume(ct_volume.with_array(array), model=_identity_loaded(), device="cpu")
    np.testing.assert_allclose(result.array, array, atol=0.05)


def test_batch_size_does_not_change_the_result(ct_volume):
    loaded = tiny_unet()
    one = inference.denoise_volume(ct_volume, model=loaded, device="cpu", batch_size=1)
    many = inference.denoise_volume(ct_volume, model=loaded, device="cpu", batch_size=3)
    np.testing.assert_allclose(one.array, many.array, atol=1e-3)


def test_context_slices_use_the_neighbours(ct_volume):
    loaded = tiny_unet(context_slices=1)
    array = ct_volume.array.copy()
    array[2] += np.random.default_rng(0).normal(0, 50, array[2].shape).astype(np.float32)
    base = inference.denoise_volume(ct_volume, model=loaded, device="cpu")
    changed = inference.denoise_volume(ct_volume.with_array(array), model=loaded, device="cpu")
    # Slice 1 and 3 see slice 2 as a neighbour; slice 0 does not.
    assert not np.allclose(base.array[1], changed.array[1])
    np.testing.assert_allclose(base.array[0], changed.array[0], atol=1e-4)
    with pytest.raises(InputError, match="context slices"):
        inference.denoise_volume(ct_volume, model=loaded, device="cpu", context_slices=0)


def test_progress_reaches_every_slice(ct_volume):
    from ipv2.progress import Monitor

    seen = []
    inference.denoise_volume(
        ct_volume,
        model=tiny_unet(),
        device="cpu",
        batch_size=1,
        monitor=Monitor(lambda stage, done, total: seen.append((stage, done, total))),
    )
    assert seen[-1] == ("denoise", ct_volume.shape[0], ct_volume.shape[0])


class RunsOutOfMemoryOnce(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.inner(x)


def test_gpu_out_of_memory_falls_back_to_cpu_with_a_warning(ct_volume, monkeypatch, caplog):
    loaded = tiny_unet()
    reference = inference.denoise_volume(ct_volume, model=loaded, device="cpu")
    flaky = RunsOutOfMemoryOnce(loaded.model)
    placed = []

    def pretend_move(item, device):
        placed.append(device.type)
        return item  # this machine has no GPU: the "cuda" device is only pretended

    monkeypatch.setattr(inference, "resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(inference, "_move", pretend_move)
    wrapped = LoadedModel(
        model=flaky, architecture="unet", arch_args=TINY_UNET_ARGS, normalization=loaded.normalization
    )
    with caplog.at_level(logging.WARNING, logger="ipv2.denoise.inference"):
        result = inference.denoise_volume(ct_volume, model=wrapped, device="cuda", batch_size=1)
    assert "ran out of memory" in caplog.text and "CPU" in caplog.text
    assert placed[0] == "cuda" and placed[-1] == "cpu"
    np.testing.assert_allclose(result.array, reference.array, atol=1e-4)


def test_out_of_memory_halves_the_batch_first(ct_volume, monkeypatch):
    loaded = tiny_unet()
    flaky = RunsOutOfMemoryOnce(loaded.model)
    sizes = []
    original = flaky.forward
    monkeypatch.setattr(flaky, "forward", lambda x: (sizes.append(x.shape[0]), original(x))[1])
    monkeypatch.setattr(inference, "resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(inference, "_move", lambda item, device: item)
    wrapped = LoadedModel(
        model=flaky, architecture="unet", arch_args=TINY_UNET_ARGS, normalization=loaded.normalization
    )
    inference.denoise_volume(ct_volume, model=wrapped, device="cuda", batch_size=4)
    assert sizes[:2] == [4, 2]


def test_model_names_without_weights_and_bad_paths(ct_volume, tmp_path, monkeypatch):
    monkeypatch.setenv("IPV2_MODELS_DIR", str(tmp_path))
    with pytest.raises(CheckpointError, match="no bundled weights"):
        inference.denoise_volume(ct_volume, model="dncnn", device="cpu")
    with pytest.raises(InputError, match="neither a registered model"):
        inference.denoise_volume(ct_volume, model=str(tmp_path / "missing.pt"), device="cpu")


def test_non_ct_input_is_refused():
    image = Volume(np.random.default_rng(0).uniform(0, 255, (2, 16, 16)).astype(np.float32))
    with pytest.raises(InputError, match="input volume"):
        inference.denoise_volume(image, model=tiny_unet(), device="cpu")


def test_bundled_weights_are_found_by_name(ct_volume, tmp_path, monkeypatch):
    path = save_tiny_checkpoint(tmp_path)
    path.rename(tmp_path / "unet.safetensors")
    monkeypatch.setenv("IPV2_MODELS_DIR", str(tmp_path))
    result = inference.denoise_volume(ct_volume, model="unet", device="cpu")
    assert result.metadata["denoised_with"].endswith("unet.safetensors")


def test_cli_denoise_end_to_end(ct_volume, tmp_path):
    checkpoint = save_tiny_checkpoint(tmp_path)
    source = write_volume(ct_volume, tmp_path / "in.nrrd")
    out = tmp_path / "out.nrrd"
    code = main(
        [
            "denoise",
            "--model",
            str(checkpoint),
            "--in",
            str(source),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--batch",
            "2",
            "--progress",
            "none",
        ]
    )
    assert code == 0
    written = read_volume(out)
    assert written.same_geometry(ct_volume)
    expected = inference.denoise_volume(ct_volume, model=str(checkpoint), device="cpu")
    np.testing.assert_allclose(written.array, expected.array, atol=1e-3)


def test_cli_denoise_reports_a_bad_checkpoint(ct_volume, tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    source = write_volume(ct_volume, tmp_path / "in.nrrd")
    code = main(
        ["denoise", "--model", str(bad), "--in", str(source), "--out", str(tmp_path / "o.nrrd"), "--progress", "none"]
    )
    assert code == 2
    assert "bad.safetensors" in capsys.readouterr().err
    assert not (tmp_path / "o.nrrd").exists()
