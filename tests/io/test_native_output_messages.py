"""One line on stderr for every refusal: what the readers' libraries print is captured."""

import logging
import os

import numpy as np
import pytest

import ipv2.io.volumes as volumes
from ipv2.cli.main import main
from ipv2.errors import InputError
from ipv2.io import write_volume
from ipv2.io.native_output import native_output_captured
from ipv2.testing import chest_like
from ipv2.volume import Volume

ITK_WARNING = b"WARNING: In /itk-build/ITK/Modules/IO/ImageBase/include/itkImageSeriesReader.hxx, line 480\n"


def test_native_output_is_kept_off_stderr_and_logged(capfd, caplog):
    with caplog.at_level(logging.DEBUG, logger="ipv2.io.native_output"):
        with native_output_captured("the reader"):
            os.write(2, ITK_WARNING)
    assert capfd.readouterr().err == ""
    assert "the reader said" in caplog.text and "itkImageSeriesReader" in caplog.text
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"  # stderr is back


def test_a_refusal_after_library_chatter_is_one_line(tmp_path, monkeypatch, capfd):
    scan = write_volume(Volume(chest_like((3, 32, 32))), tmp_path / "scan.nrrd")

    def chatty_refusal(path, reader):
        os.write(2, ITK_WARNING + b"[INFO] openjpeg: Stream too short\n")
        raise InputError(f"{path}: refused after the library spoke")

    monkeypatch.setattr(volumes, "require_plausible_header", chatty_refusal)
    assert (
        main(
            [
                "denoise",
                "--model",
                "nlm",
                "--sigma",
                "20",
                "--progress",
                "none",
                "--in",
                str(scan),
                "--out",
                str(tmp_path / "out.nrrd"),
            ]
        )
        == 2
    )
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "refused after the library spoke" in err and "ITK" not in err


def _run(tmp_path, volume, *model):
    scan = write_volume(volume, tmp_path / "crop.nrrd")
    code = main(["denoise", *model, "--progress", "none", "--in", str(scan), "--out", str(tmp_path / "out.nrrd")])
    return code, scan


@pytest.mark.parametrize("model", [["--model", "nlm"], ["--model", "nlm", "--sigma", "20"]])
def test_content_refusals_name_the_file(tmp_path, capfd, model):
    eight_bit = Volume(chest_like((3, 32, 32)).clip(-1000, 1000) / 8 + 128)  # 0..255: no air
    code, scan = _run(tmp_path, eight_bit, *model)
    err = capfd.readouterr().err
    assert code == 2 and f"{scan}: intensities" in err and "input volume" not in err


@pytest.mark.parametrize("method", ["nlm", "bm3d"])
def test_an_all_air_crop_is_refused_for_its_missing_soft_tissue(tmp_path, capfd, method):
    air = -1024.0 * np.ones((3, 32, 32), dtype=np.float32)
    air[:, 10:14, 10:14] = -850.0  # a little lung, no soft tissue
    code, scan = _run(tmp_path, Volume(air), "--model", method)
    err = capfd.readouterr().err
    assert code == 2 and f"{scan}: no soft tissue" in err and "--sigma" in err
    assert "have no noise" not in err and not (tmp_path / "out.nrrd").exists()
