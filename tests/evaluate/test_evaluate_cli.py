import json

import numpy as np
import pytest

from ipv2.cli.main import main
from ipv2.io import write_labelmap, write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(5)
    truth = Volume(chest_like((3, 40, 40), seed=2), spacing=(0.8, 0.8, 2.0))
    labels = np.zeros(truth.shape, dtype=np.uint8)
    labels[truth.array < -950] = 1
    labels[(truth.array > -900) & (truth.array < -700)] = 2
    paths = {}
    for name, sigma in (("pred", 20), ("label", 5), ("input", 120)):
        paths[name] = write_volume(
            truth.with_array(truth.array + rng.normal(0, sigma, truth.shape).astype(np.float32)),
            tmp_path / f"{name}.nrrd",
        )
    paths["truth"] = write_volume(truth, tmp_path / "truth.nrrd")
    paths["masks"] = write_labelmap(labels, truth, tmp_path / "masks.nrrd")
    return tmp_path, paths


def test_evaluate_writes_report_and_figure(files, capsys):
    folder, paths = files
    code = main(
        [
            "evaluate",
            "--pred",
            str(paths["pred"]),
            "--label",
            str(paths["label"]),
            "--masks",
            str(paths["masks"]),
            "--truth",
            str(paths["truth"]),
            "--input",
            str(paths["input"]),
            "--out",
            str(folder / "out" / "report.json"),
            "--figure",
            str(folder / "out" / "report.png"),
            "--slices",
            "1",
            "--progress",
            "none",
        ]
    )
    assert code == 0
    report = json.loads((folder / "out" / "report.json").read_text())
    assert (
        report["fidelity"]["prediction_vs_truth"]["lung"]["rmse_hu"]
        < report["fidelity"]["input_vs_truth"]["lung"]["rmse_hu"]
    )
    assert (folder / "out" / "report.png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "prediction_vs_truth" in printed and "report.png" in printed


def test_without_out_the_report_is_printed_as_json(files, capsys):
    _, paths = files
    assert (
        main(
            [
                "evaluate",
                "--pred",
                str(paths["pred"]),
                "--label",
                str(paths["label"]),
                "--masks",
                str(paths["masks"]),
                "--progress",
                "none",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert set(report["fidelity"]) == {"prediction_vs_label"}


def test_bad_masks_file_fails_with_a_clear_message(files, capsys):
    folder, paths = files
    code = main(
        [
            "evaluate",
            "--pred",
            str(paths["pred"]),
            "--label",
            str(paths["label"]),
            "--masks",
            str(paths["input"]),
            "--out",
            str(folder / "r.json"),
            "--progress",
            "none",
        ]
    )
    assert code == 2
    assert "masks" in capsys.readouterr().err
    assert not (folder / "r.json").exists()


def test_missing_file_and_bad_slices_fail_cleanly(files, capsys):
    folder, paths = files
    base = [
        "evaluate",
        "--pred",
        str(paths["pred"]),
        "--label",
        str(paths["label"]),
        "--masks",
        str(paths["masks"]),
        "--progress",
        "none",
    ]
    assert main(base[:2] + [str(folder / "missing.nrrd")] + base[3:]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(base + ["--figure", str(folder / "f.png"), "--slices", "9"]) == 2
    assert "--slices" in capsys.readouterr().err
    assert not (folder / "f.png").exists()


def test_fid_without_the_extra_says_how_to_install_it(files, capsys, monkeypatch):
    _, paths = files
    import ipv2.services.evaluate as evaluate_service

    monkeypatch.setattr(evaluate_service, "fid_available", lambda: False)
    code = main(
        [
            "evaluate",
            "--pred",
            str(paths["pred"]),
            "--label",
            str(paths["label"]),
            "--masks",
            str(paths["masks"]),
            "--fid",
            "--progress",
            "none",
        ]
    )
    assert code == 2
    assert "pip install" in capsys.readouterr().err
