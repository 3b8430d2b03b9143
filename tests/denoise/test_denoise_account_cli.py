"""`ipv2 denoise` writes the account of what it removed, and takes region-aware strengths."""

import csv
import json

import numpy as np
import pytest

from ipv2.cli.main import main
from ipv2.io import read_volume, write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume

SPACING = (0.7, 0.7, 2.0)


@pytest.fixture()
def scan(tmp_path):
    rng = np.random.default_rng(0)
    anatomy = np.maximum(chest_like((3, 96, 96), seed=5), -1024.0)
    noisy = (anatomy + rng.normal(0.0, 60.0, anatomy.shape)).astype(np.float32)
    return write_volume(Volume(noisy, spacing=SPACING), tmp_path / "scan.nrrd")


def test_the_account_is_written_beside_the_result(scan, tmp_path):
    out = tmp_path / "den.nrrd"
    assert main(["denoise", "--in", str(scan), "--out", str(out), "--device", "cpu", "--progress", "none"]) == 0
    account = json.loads((tmp_path / "den.denoise.json").read_text())
    assert account["strength"] == 8.0 and account["model"] == "unet, strength medium"
    assert account["measured_noise_hu"] > 0 and account["seconds"] > 0
    assert set(account["regions"]) == {"lung", "fat", "soft_tissue"}
    soft = account["regions"]["soft_tissue"]
    assert soft["noise_after_hu"] < soft["noise_before_hu"]
    assert account["structure_check"]["flagged_slices"] == []
    assert read_volume(out).shape == (3, 96, 96)


def test_no_account_writes_only_the_result(scan, tmp_path):
    out = tmp_path / "den.nrrd"
    assert (
        main(["denoise", "--in", str(scan), "--out", str(out), "--device", "cpu", "--progress", "none", "--no-account"])
        == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["den.nrrd", "scan.nrrd"]


def test_an_existing_account_is_not_replaced_without_overwrite(scan, tmp_path, capsys):
    (tmp_path / "den.denoise.json").write_text("mine")
    assert main(["denoise", "--in", str(scan), "--out", str(tmp_path / "den.nrrd"), "--progress", "none"]) == 2
    assert "den.denoise.json: already exists" in capsys.readouterr().err
    assert (tmp_path / "den.denoise.json").read_text() == "mine"
    assert not (tmp_path / "den.nrrd").exists()


def test_region_strengths_reach_the_result_and_its_account(scan, tmp_path):
    out = tmp_path / "den.nrrd"
    assert (
        main(
            [
                "denoise",
                "--in",
                str(scan),
                "--out",
                str(out),
                "--device",
                "cpu",
                "--progress",
                "none",
                "--strength-lung",
                "low",
                "--strength-body",
                "high",
            ]
        )
        == 0
    )
    account = json.loads((tmp_path / "den.denoise.json").read_text())
    assert (account["lung_strength"], account["body_strength"]) == (2.0, 32.0)
    assert account["model"] == "unet, strength lung low body high"


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--strength-lung", "strongest"], "--strength-lung: strength 'strongest' is unknown"),
        (["--strength-body", "0.5"], "--strength-body: strength 0.5 is outside"),
        (["--model", "nlm", "--strength-lung", "low"], "--strength-lung and --strength-body apply to the networks"),
    ],
)
def test_bad_region_strengths_are_refused_before_any_work(scan, tmp_path, capsys, flags, message):
    out = tmp_path / "den.nrrd"
    assert main(["denoise", "--in", str(scan), "--out", str(out), "--progress", "none", *flags]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "den.denoise.json").exists()


def test_a_folder_run_keeps_a_table_of_the_accounts(scan, tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    for name in ("a", "b"):
        (scans / f"{name}.nrrd").write_bytes(scan.read_bytes())
    out = tmp_path / "results"
    assert (
        main(
            ["denoise", "--model", "nlm", "--sigma", "60", "--in", str(scans), "--out", str(out), "--progress", "none"]
        )
        == 0
    )
    with (out / "denoise_accounts.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["scan"] for row in rows] == ["a", "b"]
    assert all(float(row["soft_tissue_noise_after_hu"]) < float(row["soft_tissue_noise_before_hu"]) for row in rows)


def _replace_region_masks(monkeypatch, replacement):
    """`compute_region_masks` replaced wherever `ipv2 denoise` can reach it: the masks package,
    the inference that finds the lung field of region strengths and the service that computes
    the masks for --regions."""
    import ipv2.denoise.inference
    import ipv2.masks
    import ipv2.services.denoise

    for module in (ipv2.masks, ipv2.denoise.inference, ipv2.services.denoise):
        monkeypatch.setattr(module, "compute_region_masks", replacement)


def test_regions_are_written_once_and_used_by_the_region_strengths(scan, tmp_path, monkeypatch):
    import ipv2.masks

    calls = []
    original = ipv2.masks.compute_region_masks

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    _replace_region_masks(monkeypatch, counting)
    out, regions = tmp_path / "den.nrrd", tmp_path / "regions.nrrd"
    assert (
        main(
            [
                "denoise",
                "--in",
                str(scan),
                "--out",
                str(out),
                "--device",
                "cpu",
                "--progress",
                "none",
                "--strength-lung",
                "low",
                "--strength-body",
                "high",
                "--regions",
                str(regions),
            ]
        )
        == 0
    )
    assert len(calls) == 1  # the masks the strengths used are the ones written
    labels = read_volume(regions).array
    assert labels.shape == (3, 96, 96) and set(np.unique(labels)) <= {0, 1, 2} and (labels == 2).any()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--regions", "same.nrrd", "--removed", "same.nrrd"], "another output is written there"),
        (["--regions", "regions.txt"], "regions.txt"),
    ],
)
def test_bad_region_outputs_are_refused_before_any_work(scan, tmp_path, capsys, monkeypatch, flags, message):
    monkeypatch.chdir(tmp_path)
    assert main(["denoise", "--in", str(scan), "--out", "den.nrrd", "--progress", "none", *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "den.nrrd").exists()


def test_ipv2_masks_refuses_a_scan_that_is_not_ct(tmp_path, capsys):
    image = np.random.default_rng(0).integers(0, 255, (3, 64, 64)).astype(np.float32)
    source = write_volume(Volume(image, spacing=SPACING), tmp_path / "photo.nrrd")
    assert main(["masks", "--in", str(source), "--out", str(tmp_path / "labels.nrrd"), "--progress", "none"]) == 2
    assert "photo.nrrd" in capsys.readouterr().err
    assert not (tmp_path / "labels.nrrd").exists()


@pytest.mark.parametrize("photo, flags", [(True, []), (False, ["--model", "missing.safetensors"])])
def test_regions_are_not_computed_for_a_run_that_will_be_refused(scan, tmp_path, monkeypatch, capsys, photo, flags):
    def never(*args, **kwargs):
        raise AssertionError("the masks were computed before the refusal")

    _replace_region_masks(monkeypatch, never)
    source = scan
    if photo:
        image = np.random.default_rng(0).integers(0, 255, (3, 64, 64)).astype(np.float32)
        source = write_volume(Volume(image, spacing=SPACING), tmp_path / "photo.nrrd")
    assert (
        main(
            [
                "denoise",
                "--in",
                str(source),
                "--out",
                str(tmp_path / "den.nrrd"),
                "--progress",
                "none",
                "--regions",
                str(tmp_path / "regions.nrrd"),
                *flags,
            ]
        )
        == 2
    )
    assert "the masks were computed" not in capsys.readouterr().err
    assert not (tmp_path / "regions.nrrd").exists()
