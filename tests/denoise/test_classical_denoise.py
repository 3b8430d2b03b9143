"""BM3D and non-local means over whole volumes: `denoise_volume_classical` and `ipv2 denoise`."""

import contextlib
import json

import numpy as np
import pytest

import ipv2.cli.denoise as denoise_cli
from ipv2.cli.main import main
from ipv2.denoise.classical import CLASSICAL_DENOISERS, denoise_volume_classical, measure_sigma_hu, require_sigma_hu
from ipv2.errors import Cancelled, InputError
from ipv2.io import read_volume, write_volume
from ipv2.progress import Monitor, parse_progress_line
from ipv2.testing import chest_like
from ipv2.volume import Volume

NOISE_HU = 60.0
# An oblique grid: rotated 30 degrees in-plane and tilted, so that a lost direction shows.
COS, SIN = np.cos(np.pi / 6), np.sin(np.pi / 6)
OBLIQUE = (COS, -SIN, 0.0, SIN, COS, 0.0, 0.0, 0.0, 1.0)


def noisy_scan(shape=(3, 64, 64), sigma=NOISE_HU, seed=1):
    """A chest-like volume plus white noise of known level, and its clean version."""
    clean = chest_like(shape, seed=seed).astype(np.float64)
    noise = np.random.default_rng(seed + 10).normal(0.0, sigma, shape)
    volume = Volume(
        (clean + noise).astype(np.float32), spacing=(0.7, 0.8, 2.5), origin=(-120.5, 33.25, 7.0), direction=OBLIQUE
    )
    return volume, clean


def error_hu(array, clean):
    return float(np.std(array - clean))


@pytest.fixture
def scan_file(tmp_path):
    volume, clean = noisy_scan()
    return write_volume(volume, tmp_path / "scan.nrrd"), volume, clean


def test_bm3d_cli_keeps_the_geometry_and_lowers_the_noise(scan_file, tmp_path, capsys):
    path, volume, clean = scan_file
    out = tmp_path / "bm3d.nrrd"
    assert main(["denoise", "--model", "bm3d", "--in", str(path), "--out", str(out), "--progress", "none"]) == 0
    written = read_volume(out)
    assert written.shape == volume.shape
    np.testing.assert_allclose(written.spacing, volume.spacing, rtol=1e-12)
    np.testing.assert_allclose(written.origin, volume.origin, rtol=1e-12)
    np.testing.assert_allclose(written.direction, OBLIQUE, atol=1e-12)
    assert error_hu(written.array, clean) < 0.6 * error_hu(volume.array, clean)
    # Still HU: the body's soft tissue keeps its mean, the air stays air.
    body = clean > -200.0
    assert abs(float(written.array[body].mean()) - float(clean[body].mean())) < 5.0
    assert "noise level" in capsys.readouterr().out


def test_nlm_lowers_the_noise_and_records_the_level_it_used():
    volume, clean = noisy_scan()
    original = volume.array.copy()
    result = denoise_volume_classical(volume, "nlm", sigma_hu=NOISE_HU)
    assert error_hu(result.array, clean) < 0.6 * error_hu(volume.array, clean)
    assert result.metadata["denoised_with"] == "nlm"
    assert result.metadata["noise_sigma_hu"] == NOISE_HU
    assert result.same_geometry(volume)
    np.testing.assert_array_equal(volume.array, original)


@pytest.mark.parametrize("method", CLASSICAL_DENOISERS)
def test_padding_outside_the_field_of_view_is_kept_and_does_not_bleed_into_it(method):
    volume, clean = noisy_scan()
    yy, xx = np.mgrid[0:64, 0:64]
    radius = np.hypot(yy - 31.5, xx - 31.5)
    outside = np.broadcast_to(radius > 30.0, volume.shape)
    padded = np.where(outside, np.float32(-3024.0), volume.array)
    result = denoise_volume_classical(volume.with_array(padded), method, sigma_hu=NOISE_HU)
    np.testing.assert_array_equal(result.array[outside], -3024.0)
    # The air just inside the circle keeps its level: nothing of the -3024 HU leaked in.
    rim = np.broadcast_to((radius > 27.0) & (radius <= 30.0), volume.shape)
    assert abs(float(np.mean(result.array[rim] - clean[rim]))) < 10.0


def test_measured_level_is_the_noise_put_in_and_is_the_one_used():
    volume, _ = noisy_scan(sigma=NOISE_HU)
    measured = measure_sigma_hu(volume)
    assert measured == pytest.approx(NOISE_HU, rel=0.15)
    result = denoise_volume_classical(volume, "bm3d")
    assert result.metadata["noise_sigma_hu"] == measured


def test_a_volume_without_noise_has_no_level_to_measure():
    # Air, lung and tissue in stripes; the extremes are left out of the measurement, the lung is not.
    columns = np.select([np.arange(64) < 20, np.arange(64) < 44], [-1000.0, -850.0], 40.0)
    volume = Volume(np.broadcast_to(columns, (3, 64, 64)).astype(np.float32))
    with pytest.raises(InputError, match="no noise"):
        measure_sigma_hu(volume)


@pytest.mark.parametrize("sigma", [0.0, -5.0, float("nan"), float("inf"), 1000.0, 5000.0])
def test_bad_sigma_is_refused_by_the_backend(sigma):
    volume, _ = noisy_scan()
    with pytest.raises(InputError, match="noise level"):
        denoise_volume_classical(volume, "bm3d", sigma_hu=sigma)


def test_sigma_just_below_the_limit_is_accepted():
    assert require_sigma_hu(999.0) == 999.0


def test_unknown_method_is_refused():
    volume, _ = noisy_scan()
    with pytest.raises(InputError, match="tv"):
        denoise_volume_classical(volume, "tv")


@pytest.mark.parametrize("sigma", ["0", "-5", "nan", "inf", "5000"])
def test_cli_refuses_bad_sigma_before_reading_anything(sigma, tmp_path, capsys):
    # The input does not exist: the sigma must be refused before the input is even looked at.
    out = tmp_path / "out.nrrd"
    argv = [
        "denoise",
        "--model",
        "bm3d",
        "--in",
        str(tmp_path / "missing.nrrd"),
        "--out",
        str(out),
        f"--sigma={sigma}",
        "--progress",
        "none",
    ]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "noise level" in error and "missing.nrrd" not in error
    assert not out.exists()


def test_cli_refuses_sigma_for_a_network(scan_file, tmp_path, capsys):
    path, _, _ = scan_file
    out = tmp_path / "out.nrrd"
    argv = ["denoise", "--model", "unet", "--in", str(path), "--out", str(out), "--sigma", "20", "--progress", "none"]
    assert main(argv) == 2
    assert "--sigma" in capsys.readouterr().err
    assert not out.exists()


def test_cli_json_progress_carries_the_noise_level_then_one_record_per_slice(scan_file, tmp_path, capsys):
    path, volume, _ = scan_file
    argv = ["denoise", "--model", "nlm", "--in", str(path), "--progress", "json"]
    assert main(argv + ["--out", str(tmp_path / "measured.nrrd")]) == 0
    lines = capsys.readouterr().out.splitlines()
    records = [parse_progress_line(line) for line in lines]
    assert all(record is not None for record in records), lines  # nothing else on stdout
    noise = records[0]
    assert noise["stage"] == "measure noise" and noise["done"] == noise["total"] == 1
    assert noise["sigma_source"] == "measured"
    assert noise["sigma_hu"] == pytest.approx(round(measure_sigma_hu(volume), 3))
    slices = [(r["done"], r["total"]) for r in records[1:] if r["stage"] == "denoise (nlm)"]
    assert slices == [(done, 3) for done in range(4)]

    assert main(argv + ["--out", str(tmp_path / "given.nrrd"), "--sigma", "42.5"]) == 0
    given = parse_progress_line(capsys.readouterr().out.splitlines()[0])
    assert (given["sigma_hu"], given["sigma_source"]) == (42.5, "given")


def test_progress_is_per_slice_and_cancel_stops_between_slices():
    volume, _ = noisy_scan()
    seen = []

    def cancel_after_first_slice(stage, done, total):
        seen.append((stage, done, total))
        if done == 1:
            monitor.cancel()

    monitor = Monitor(cancel_after_first_slice)
    with pytest.raises(Cancelled):
        denoise_volume_classical(volume, "nlm", sigma_hu=NOISE_HU, monitor=monitor)
    assert seen == [("denoise (nlm)", 0, 3), ("denoise (nlm)", 1, 3)]

    cancelled = Monitor()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        denoise_volume_classical(volume, "bm3d", sigma_hu=NOISE_HU, monitor=cancelled)


def test_cancelled_cli_run_writes_nothing(scan_file, tmp_path, monkeypatch):
    path, _, _ = scan_file

    @contextlib.contextmanager
    def cancelled_monitor(args):
        monitor = Monitor()
        monitor.cancel()
        yield monitor

    monkeypatch.setattr(denoise_cli, "monitor_from_args", cancelled_monitor)
    out = tmp_path / "out.nrrd"
    assert (
        main(
            ["denoise", "--model", "bm3d", "--in", str(path), "--out", str(out), "--sigma", "30", "--progress", "none"]
        )
        == 130
    )
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_models_lists_the_classical_methods(capsys):
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["models"]}
    for name in CLASSICAL_DENOISERS:
        assert rows[name]["kind"] == "classical"
        assert rows[name]["params"] is None and rows[name]["bundled_weights"] is None
    networks = [row for row in rows.values() if row["kind"] == "network"]
    assert networks and all(row["params"] > 0 for row in networks)
    assert main(["models"]) == 0
    table = capsys.readouterr().out
    for name in CLASSICAL_DENOISERS:
        assert any(line.startswith(name) and "classical" in line for line in table.splitlines())
