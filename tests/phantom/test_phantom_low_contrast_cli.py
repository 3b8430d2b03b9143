"""`ipv2 phantom --low-contrast` writes the detectability phantom's images and sites."""

import json

import numpy as np
import pytest

from ipv2.cli.main import main
from ipv2.io import read_volume
from ipv2.phantom.low_contrast import INSERTS


def test_the_low_contrast_phantom_is_written_with_its_sites(tmp_path):
    out = tmp_path / "lcd"
    assert (
        main(
            [
                "phantom",
                "--low-contrast",
                "--out",
                str(out),
                "--size",
                "300",
                "--realisations",
                "3",
                "--dose",
                "0.5",
                "--progress",
                "none",
            ]
        )
        == 0
    )
    noisy = read_volume(out / "low_contrast.nrrd").array
    reference = read_volume(out / "low_contrast_reference.nrrd").array[0]
    truth = read_volume(out / "low_contrast_truth.nrrd").array[0]
    assert noisy.shape == (3, 300, 300) and reference.shape == truth.shape == (300, 300)
    record = json.loads((out / "low_contrast_sites.json").read_text())
    assert record["dose"] == 0.5 and record["realisations"] == 3
    for site in record["sites"]:
        row, column = (int(round(v)) for v in site["centre_px"])
        expected = site["contrast_hu"] or 0.0
        assert truth[row, column] == pytest.approx(expected, abs=0.5)
    drawn = {(site["diameter_mm"], site["contrast_hu"]) for site in record["sites"] if site["diameter_mm"]}
    assert drawn == set(INSERTS)
    centre = slice(130, 170)
    assert 5.0 < float((noisy[:, centre, centre] - reference[centre, centre]).std()) < 60.0


def test_the_same_seed_gives_the_same_realisations(tmp_path):
    arrays = []
    for name in ("a", "b"):
        assert (
            main(
                [
                    "phantom",
                    "--low-contrast",
                    "--out",
                    str(tmp_path / name),
                    "--size",
                    "300",
                    "--realisations",
                    "2",
                    "--seed",
                    "4",
                    "--progress",
                    "none",
                ]
            )
            == 0
        )
        arrays.append(read_volume(tmp_path / name / "low_contrast.nrrd").array)
    np.testing.assert_array_equal(*arrays)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--slices", "8"], "--slices apply to the chest phantom"),
        (["--png"], "--png apply to the chest phantom"),
        (["--dose", "2"], "--dose 2 must be in (0, 1]"),
        (["--realisations", "0"], "--realisations 0 must be at least 1"),
    ],
)
def test_chest_options_and_bad_values_are_refused(tmp_path, capsys, flags, message):
    out = tmp_path / "lcd"
    assert main(["phantom", "--low-contrast", "--out", str(out), "--progress", "none", *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (out / "low_contrast.nrrd").exists()


def test_realisations_without_low_contrast_are_refused(tmp_path, capsys):
    assert main(["phantom", "--out", str(tmp_path / "p"), "--realisations", "3", "--progress", "none"]) == 2
    assert "--realisations applies to --low-contrast" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--motion-mm", "4"], "--motion-mm apply to the chest phantom"),
        (["--no-electronic-noise"], "--no-electronic-noise apply to the chest phantom"),
        (["--size", "0"], "a field of view of 0 x 0.7 mm"),
    ],
)
def test_options_the_cylinder_would_ignore_or_misread_are_refused(tmp_path, capsys, flags, message):
    assert main(["phantom", "--low-contrast", "--out", str(tmp_path / "lcd"), "--progress", "none", *flags]) == 2
    assert message in capsys.readouterr().err


def test_realisations_report_progress_block_by_block():
    from ipv2.phantom.low_contrast import render_low_contrast_slice, simulate_realisations
    from ipv2.progress import Monitor

    seen = []
    simulate_realisations(render_low_contrast_slice(300), 0.5, 2, monitor=Monitor(lambda *step: seen.append(step)))
    assert seen[0][1:] == (0, 2) and seen[-1][1:] == (2, 2)
