import json

import numpy as np
import pytest

from ipv2.cli.main import main
from ipv2.errors import InputError
from ipv2.io import read_volume
from ipv2.models import DEFAULT_MODEL, bundled_weights_path

needs_bundled_weights = pytest.mark.skipif(
    bundled_weights_path(DEFAULT_MODEL) is None,
    reason="the default model's bundled weights are not in Resources/Models",
)


@needs_bundled_weights
def test_demo_runs_end_to_end_and_writes_report_figure_and_volumes(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--size", "64", "--slices", "4", "--progress", "none"]) == 0
    printed = capsys.readouterr().out
    assert f"figure: {out / 'demo_report.png'}" in printed
    assert (out / "demo_report.png").read_bytes()[:4] == b"\x89PNG"
    report = json.loads((out / "demo_report.json").read_text())
    assert {"prediction_vs_label", "prediction_vs_truth", "input_vs_label", "input_vs_truth"} <= set(report["fidelity"])
    assert report["demo"]["size"] == 64
    for name in ("uldct", "ndct", "truth", "denoised", "eval_label", "masks"):
        assert read_volume(out / f"{name}.nrrd").shape == (4, 64, 64)
    masks = read_volume(out / "masks.nrrd").array
    assert set(np.unique(masks).tolist()) <= {0.0, 1.0, 2.0} and (masks == 2).any() and (masks == 1).any()
    assert report["demo"]["denoised_with"].endswith(bundled_weights_path(DEFAULT_MODEL).name)
    denoised, uldct = read_volume(out / "denoised.nrrd").array, read_volume(out / "uldct.nrrd").array
    # The model was applied, not skipped; at this size's coarse pixels it changes little.
    assert np.abs(denoised - uldct).mean() > 0.3
    assert report["fidelity"]["prediction_vs_truth"]["lung"]["rmse_hu"] is not None
    assert not list(out.glob(".partial-*"))


def test_demo_refuses_a_phantom_too_small_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--size", "16", "--progress", "none"]) == 2
    assert "--size" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_demo_out_must_be_a_folder(tmp_path):
    from ipv2.services.demo import run_demo

    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(InputError, match="--out"):
        run_demo(target, size=64, slices=2)


def test_demo_without_weights_says_so_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("IPV2_MODELS_DIR", str(tmp_path / "no-models"))
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--size", "64", "--slices", "4", "--progress", "none"]) == 2
    assert "bundled weights" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
