"""`ipv2 evaluate` checks its options and output paths, and holds its outputs' locks, before it
reads a volume: a bad figure path used to fail only after the report had been written."""

import pytest
import torch

from ipv2.cli.main import main
from ipv2.io import write_labelmap, write_volume
from ipv2.io.lock import output_lock
from ipv2.testing import chest_like
from ipv2.volume import Volume


@pytest.fixture
def volumes(tmp_path):
    scan = Volume(chest_like((3, 32, 32)), spacing=(0.8, 0.8, 2.0))
    pred = write_volume(scan, tmp_path / "pred.nrrd")
    masks = write_labelmap((scan.array < -700).astype("uint8") * 2, scan, tmp_path / "masks.nrrd")
    return ["evaluate", "--pred", str(pred), "--label", str(pred), "--masks", str(masks), "--progress", "none"]


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if a volume is read: every refusal here must come first."""
    import ipv2.io.volumes as volumes

    def refuse(path):
        raise AssertionError(f"read {path} before refusing")

    monkeypatch.setattr(volumes, "_read_file", refuse)


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--figure", "{tmp}/figure.txt"], "the figure is written as .png, .pdf or .svg"),
        (["--figure", "{tmp}"], "--figure {tmp}: a folder; give the file to write"),
        (["--figure", "{tmp}/pred.nrrd/f.png"], "pred.nrrd is a file, so nothing can be written under it"),
        (["--out", "{tmp}/pred.nrrd/r.json"], "pred.nrrd is a file, so nothing can be written under it"),
        (["--out", "{tmp}/same.png", "--figure", "{tmp}/same.png"], "--out and --figure name the same file"),
        (["--slices", "-1"], "--slices chooses the slices of the figure; give --figure FILE too"),
    ],
)
def test_bad_outputs_and_options_are_refused_before_any_volume_is_read(
    volumes, tmp_path, no_work, extra, message, capsys
):
    argv = volumes + ["--out", str(tmp_path / "report.json")] + [part.format(tmp=tmp_path) for part in extra]
    assert main(argv) == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err
    assert not (tmp_path / "report.json").exists()


def test_cuda_without_a_gpu_is_refused(volumes, tmp_path, no_work, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(volumes + ["--device", "cuda"]) == 2
    assert "no CUDA GPU is available here" in capsys.readouterr().err


def test_a_second_run_on_the_same_report_is_refused(volumes, tmp_path, no_work, capsys):
    report = tmp_path / "report.json"
    with output_lock(report):
        assert main(volumes + ["--out", str(report)]) == 2
    assert "another ipv2 run" in capsys.readouterr().err
    assert not report.exists()


def test_a_finished_run_leaves_its_outputs_and_no_lock(volumes, tmp_path):
    assert (
        main(
            volumes
            + [
                "--out",
                str(tmp_path / "r" / "report.json"),
                "--figure",
                str(tmp_path / "r" / "f.png"),
                "--slices",
                "-1",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["f.png", "report.json"]
