"""Noise-level conditioning: measured levels and the channel the network reads."""

import numpy as np
import pytest
import torch
from torch import nn

from ipv2.denoise.inference import denoise_volume
from ipv2.errors import CheckpointError
from ipv2.models import build_model
from ipv2.models.checkpoint import LoadedModel, load_checkpoint, model_record, save_checkpoint
from ipv2.models.conditioning import NOISE_SCALE_HU, slice_noise_levels
from ipv2.models.normalization import Normalization
from ipv2.testing import chest_like
from ipv2.training.data import PatchSampler, TrainingPair
from ipv2.training.losses import L1WithGradient, make_loss
from ipv2.volume import Volume

HU = Normalization.for_kind("hu")


def _flat_slices(levels, shape=(96, 96), seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([40.0 + rng.normal(0.0, level, shape) for level in levels]).astype(np.float32)


def test_noise_levels_are_measured_per_slice_in_soft_tissue():
    measured = slice_noise_levels(_flat_slices([10.0, 40.0]))
    assert measured[0] == pytest.approx(10.0, rel=0.15)
    assert measured[1] == pytest.approx(40.0, rel=0.15)


def test_a_slice_without_a_flat_region_takes_the_others_median():
    volume = _flat_slices([20.0, 20.0, 20.0])
    volume[1] = np.where(np.indices(volume[1].shape).sum(axis=0) % 2, 3000.0, -3000.0)
    measured = slice_noise_levels(volume)
    assert measured[1] == pytest.approx(np.median(measured[[0, 2]]), rel=1e-6)


class ChannelZeroProbe(nn.Module):
    """Returns the conditioning channel as the image: what reaches the network is visible."""

    in_channels = 2

    def forward(self, x):
        return x[:, :1]


def _probe_model():
    return LoadedModel(
        model=ChannelZeroProbe(), architecture="unet", arch_args={}, normalization=HU, noise_scale_hu=NOISE_SCALE_HU
    )


@pytest.mark.parametrize("strength", ["low", "high"])
def test_the_network_reads_the_measured_level_whatever_the_strength(strength, monkeypatch):
    array = _flat_slices([15.0, 30.0])
    array[:, :, :24] = -1000.0  # air beside the tissue, as a CT has
    volume = Volume(array, spacing=(0.7, 0.7, 2.0))
    estimates = []

    def keep_the_estimate(noisy, estimate, *args, **kwargs):
        estimates.append(estimate.copy())
        return estimate

    monkeypatch.setattr("ipv2.denoise.inference.recombine", keep_the_estimate)
    result = denoise_volume(volume, model=_probe_model(), device="cpu", strength=strength)
    # The probe hands back channel 0, level / scale, which the window maps back to HU.
    expected = HU.from_model(slice_noise_levels(volume.array) / NOISE_SCALE_HU)
    np.testing.assert_allclose(estimates[0][:, 10, 60], expected, rtol=1e-5)
    assert result.metadata["measured_noise_hu"] == pytest.approx(
        float(np.median(slice_noise_levels(volume.array))), abs=0.01
    )


def test_a_model_without_conditioning_takes_every_strength():
    model = build_model("unet", widths=[4, 8]).eval()
    loaded = LoadedModel(model=model, architecture="unet", arch_args={"widths": [4, 8]}, normalization=HU)
    volume = Volume(chest_like((2, 32, 32)), spacing=(0.7, 0.7, 2.0))
    low = denoise_volume(volume, model=loaded, device="cpu", strength="low")
    high = denoise_volume(volume, model=loaded, device="cpu", strength="high")
    assert low.shape == high.shape == volume.shape
    assert high.metadata["strength"] > low.metadata["strength"]
    assert "measured_noise_hu" not in high.metadata


def test_conditioned_checkpoint_round_trip(tmp_path):
    model = build_model("unet", in_channels=2, widths=[4, 8])
    record = model_record("unet", {"widths": [4, 8]}, HU, 0, noise_scale_hu=NOISE_SCALE_HU)
    path = save_checkpoint(tmp_path / "c.safetensors", model.state_dict(), record)
    loaded = load_checkpoint(path)
    assert loaded.noise_scale_hu == NOISE_SCALE_HU
    assert loaded.in_channels == 2


@pytest.mark.parametrize("bad", [{"scale_hu": -1}, {"scale_hu": "x"}, "yes", {}])
def test_corrupt_conditioning_records_are_refused(tmp_path, bad):
    model = build_model("unet", in_channels=2, widths=[4, 8])
    record = model_record("unet", {"widths": [4, 8]}, HU, 0, noise_scale_hu=NOISE_SCALE_HU)
    record["noise_conditioning"] = bad
    path = save_checkpoint(tmp_path / "c.safetensors", model.state_dict(), record)
    with pytest.raises(CheckpointError, match="incomplete checkpoint record"):
        load_checkpoint(path)


def test_conditioned_patches_carry_the_level_in_channel_zero():
    inputs = _flat_slices([12.0, 36.0], shape=(64, 64))
    pair = TrainingPair("flat", inputs, inputs.copy(), "hu")
    sampler = PatchSampler([pair], 32, HU, noise_conditioning=True, seed=1)
    batch_inputs, targets = sampler.batch(0, 8)
    assert batch_inputs.shape == (8, 2, 32, 32) and targets.shape == (8, 1, 32, 32)
    levels = pair.noise_levels() / NOISE_SCALE_HU
    for item in batch_inputs:
        assert np.all(item[0] == item[0, 0, 0])
        assert np.isclose(item[0, 0, 0], levels).any()
    np.testing.assert_array_equal(PatchSampler([pair], 32, HU, seed=1).batch(0, 8)[0], batch_inputs[:, 1:])


def test_gradient_loss_penalises_a_blurred_edge_more_than_l1_alone():
    target = torch.zeros(1, 1, 16, 16)
    target[..., 8:] = 1.0
    blurred = torch.nn.functional.avg_pool2d(
        torch.nn.functional.pad(target, (2, 2, 2, 2), mode="replicate"), 5, stride=1
    )
    assert L1WithGradient()(target, target).item() == 0.0
    plain = make_loss("l1")(blurred, target).item()
    assert L1WithGradient()(blurred, target).item() > plain + 0.05
    with pytest.raises(ValueError):
        make_loss("huber")


def test_cli_strength_is_validated_before_any_work(tmp_path, capsys):
    from ipv2.cli.main import main
    from ipv2.io import write_volume

    source = write_volume(Volume(chest_like((2, 32, 32)), spacing=(0.7, 0.7, 2.0)), tmp_path / "in.nrrd")
    out = tmp_path / "out.nrrd"
    assert main(["denoise", "--in", str(source), "--out", str(out), "--strength", "extreme"]) == 2
    assert main(["denoise", "--model", "bm3d", "--in", str(source), "--out", str(out), "--strength", "high"]) == 2
    assert "strength" in capsys.readouterr().err
    assert not out.exists()


def test_noise_levels_of_unmeasured_slices_are_interpolated_along_z():
    levels = np.linspace(10.0, 50.0, 9)
    volume = _flat_slices(levels, shape=(64, 64))
    every = slice_noise_levels(volume)
    sparse = slice_noise_levels(volume, max_measured=3)  # slices 0, 4 and 8
    np.testing.assert_array_equal(sparse[[0, 4, 8]], every[[0, 4, 8]])
    np.testing.assert_allclose(sparse[2], 0.5 * (every[0] + every[4]), rtol=1e-5)
    assert np.all(np.diff(sparse) > 0)


def test_measuring_the_noise_reports_progress_and_can_be_cancelled():
    from ipv2.errors import Cancelled
    from ipv2.progress import Monitor

    seen = []
    volume = _flat_slices([20.0] * 4, shape=(64, 64))
    slice_noise_levels(volume, monitor=Monitor(lambda stage, done, total: seen.append((stage, done, total))))
    assert seen[0] == ("measure noise", 0, 4) and seen[-1] == ("measure noise", 4, 4)
    monitor = Monitor()
    monitor.cancel()
    with pytest.raises(Cancelled):
        slice_noise_levels(volume, monitor=monitor)
