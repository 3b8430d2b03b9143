"""Every command that writes files refuses to replace an input or, unasked, an existing output."""

import pytest

from ipv2.cli.main import main
from ipv2.io import read_volume, write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume


@pytest.fixture
def scan(tmp_path):
    return write_volume(Volume(chest_like((4, 64, 64)), spacing=(0.7, 0.7, 2.5)), tmp_path / "scan.nrrd")


@pytest.mark.parametrize(
    "command",
    [
        ["simulate", "--in", "{scan}", "--out", "{out}"],
        ["denoise", "--in", "{scan}", "--out", "{out}"],
        ["denoise", "--model", "nlm", "--in", "{scan}", "--out", "{out}"],
    ],
)
def test_output_that_is_the_input_is_refused_and_the_input_kept(scan, command, capsys):
    before = scan.read_bytes()
    argv = [part.format(scan=scan, out=scan) for part in command] + ["--progress", "none", "--overwrite"]
    assert main(argv) == 2
    assert "replace an input" in capsys.readouterr().err
    assert scan.read_bytes() == before


@pytest.mark.parametrize(
    "command",
    [
        ["simulate", "--in", "{scan}", "--out", "{out}"],
        ["denoise", "--in", "{scan}", "--out", "{out}"],
        ["denoise", "--model", "nlm", "--in", "{scan}", "--out", "{out}"],
    ],
)
def test_existing_output_is_kept_unless_overwrite(scan, tmp_path, command, capsys):
    out = tmp_path / "result.nrrd"
    out.write_bytes(b"earlier result")
    argv = [part.format(scan=scan, out=out) for part in command] + ["--progress", "none"]
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"earlier result"
    assert main(argv + ["--overwrite"]) == 0
    assert read_volume(out).shape == (4, 64, 64)


def test_phantom_keeps_an_earlier_phantom(tmp_path, capsys):
    argv = ["phantom", "--out", str(tmp_path), "--size", "64", "--slices", "4", "--progress", "none"]
    assert main(argv) == 0
    first = (tmp_path / "uldct.nrrd").read_bytes()
    assert main(argv + ["--seed", "5"]) == 2
    assert (tmp_path / "uldct.nrrd").read_bytes() == first
    assert main(argv + ["--seed", "5", "--overwrite"]) == 0
    assert (tmp_path / "uldct.nrrd").read_bytes() != first


def test_evaluate_output_may_not_replace_its_inputs(scan, capsys):
    argv = [
        "evaluate",
        "--pred",
        str(scan),
        "--label",
        str(scan),
        "--masks",
        str(scan),
        "--out",
        str(scan),
        "--progress",
        "none",
    ]
    assert main(argv) == 2
    assert "replace an input" in capsys.readouterr().err


def test_denoise_uncompressed_writes_a_raw_nrrd_with_the_same_voxels(scan, tmp_path):
    for name, extra in (("gzip.nrrd", []), ("raw.nrrd", ["--uncompressed"])):
        assert (
            main(
                [
                    "denoise",
                    "--model",
                    "nlm",
                    "--in",
                    str(scan),
                    "--out",
                    str(tmp_path / name),
                    "--progress",
                    "none",
                    *extra,
                ]
            )
            == 0
        )
    headers = [(tmp_path / name).read_bytes().split(b"\n\n", 1)[0] for name in ("gzip.nrrd", "raw.nrrd")]
    assert b"encoding: gzip" in headers[0] and b"encoding: raw" in headers[1]
    gzip, raw = read_volume(tmp_path / "gzip.nrrd"), read_volume(tmp_path / "raw.nrrd")
    assert raw.same_geometry(gzip) and (raw.array == gzip.array).all()


def test_denoise_uncompressed_refuses_a_gzip_format_before_any_work(scan, tmp_path, capsys):
    out = tmp_path / "denoised.nii.gz"
    assert main(["denoise", "--model", "nlm", "--in", str(scan), "--out", str(out), "--uncompressed"]) == 2
    assert "names a gzip format" in capsys.readouterr().err and not out.exists()
