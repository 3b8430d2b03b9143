"""DICOM in and out: a derived series of the same study, read back with the input's geometry,
and a folder of scans denoised in one call (skipped when finished, shared among ranks)."""

from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from ipv2.cli.main import main
from ipv2.denoise.classical import denoise_volume_classical
from ipv2.io import read_volume, write_volume
from ipv2.io.dicom import rescale_for, write_derived_series
from ipv2.io.scans import Scan, find_scans, share_of_rank
from ipv2.testing import chest_like
from ipv2.volume import Volume
from tests.support.tiny_models import save_tiny_checkpoint

SIGMA = ["--sigma", "20"]
# An oblique scan: rows along x, columns tilted in the y-z plane, slices along their normal.
ROW, COLUMN = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.8, -0.6])
NORMAL = np.cross(ROW, COLUMN)
ORIGIN = np.array([-20.0, -30.0, 15.0])
SPACING = (0.7, 0.8, 2.5)  # x, y, z


def write_series(folder: Path, hu: np.ndarray, patient="Doe^Jane", series_number=3) -> dict:
    """`hu` (z, y, x) as a CT series stored unsigned with intercept -1024, files named in the
    reverse of slice order (a reader must sort by position)."""
    folder.mkdir(parents=True)
    hu = np.clip(hu, -1024, 3071)  # what 12 stored bits hold
    uids = {"study": generate_uid(), "frame": generate_uid(), "series": generate_uid(), "sop": []}
    for k, image in enumerate(hu):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        uids["sop"].append(ds.SOPInstanceUID)
        ds.Modality = "CT"
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = patient, "P-17", "19600101", "F"
        ds.StudyInstanceUID, ds.StudyDate, ds.AccessionNumber, ds.StudyID = uids["study"], "20261130", "A42", "7"
        ds.SeriesInstanceUID, ds.SeriesNumber = uids["series"], series_number
        ds.FrameOfReferenceUID = uids["frame"]
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = list(ORIGIN + k * SPACING[2] * NORMAL)
        ds.ImageOrientationPatient = [*ROW, *COLUMN]
        ds.PixelSpacing = [SPACING[1], SPACING[0]]
        ds.SliceThickness = 3.0  # thicker than the spacing: overlapping reconstruction
        ds.Rows, ds.Columns = image.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = (np.round(image) + 1024).astype("<u2").tobytes()
        ds.save_as(folder / f"IM{len(hu) - k:04d}", enforce_file_format=True)
    return uids


def _headers(folder: Path):
    return [pydicom.dcmread(path) for path in sorted(folder.iterdir())]


@pytest.fixture
def series(tmp_path):
    return tmp_path / "series", write_series(tmp_path / "series", chest_like((6, 48, 48), seed=3))


def test_derived_series_joins_the_study_with_the_input_geometry(series, tmp_path, capsys):
    source, uids = series
    out = tmp_path / "denoised"
    assert (
        main(["denoise", "--model", "nlm", *SIGMA, "--in", str(source), "--out", str(out), "--progress", "none"]) == 0
    )
    assert "derived DICOM series written" in capsys.readouterr().out

    headers = _headers(out)
    assert len(headers) == 6
    series_uids = {h.SeriesInstanceUID for h in headers}
    assert len(series_uids) == 1 and uids["series"] not in series_uids
    sops = [h.SOPInstanceUID for h in headers]
    assert len(set(sops)) == 6 and not set(sops) & set(uids["sop"])
    for k, h in enumerate(headers):
        assert h.StudyInstanceUID == uids["study"] and h.FrameOfReferenceUID == uids["frame"]
        assert (str(h.PatientName), h.PatientID, h.PatientBirthDate, h.AccessionNumber) == (
            "Doe^Jane",
            "P-17",
            "19600101",
            "A42",
        )
        assert list(h.ImageType)[:2] == ["DERIVED", "SECONDARY"]
        assert (h.Manufacturer, h.ReferringPhysicianName, h.KVP) == ("IPv2", "", None)  # Type 2: present, empty
        assert h.SeriesDescription == "IPv2 denoised (nlm, sigma 20.0 HU)"
        assert h.SeriesNumber == 1003 and h.InstanceNumber == k + 1
        assert float(h.SliceThickness) == 3.0
        np.testing.assert_allclose([float(v) for v in h.ImagePositionPatient], ORIGIN + k * 2.5 * NORMAL, atol=1e-4)
        np.testing.assert_allclose([float(v) for v in h.ImageOrientationPatient], [*ROW, *COLUMN], atol=1e-6)
        np.testing.assert_allclose([float(v) for v in h.PixelSpacing], [0.8, 0.7])
        # the source slice is the input slice at the same position
        assert h.SourceImageSequence[0].ReferencedSOPInstanceUID == uids["sop"][k]

    image = sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(out)))
    original = read_volume(source)
    np.testing.assert_allclose(image.GetOrigin(), ORIGIN, atol=1e-4)
    np.testing.assert_allclose(image.GetSpacing(), SPACING, atol=1e-4)
    np.testing.assert_allclose(image.GetDirection(), np.column_stack([ROW, COLUMN, NORMAL]).ravel(), atol=1e-5)
    expected = denoise_volume_classical(original, "nlm", sigma_hu=20.0).array
    assert np.abs(sitk.GetArrayFromImage(image) - np.round(expected)).max() <= 1  # 1 HU steps stored
    assert not np.array_equal(np.round(expected), original.array)  # it was denoised, not copied


def test_the_series_description_names_the_network_and_its_strength(series, tmp_path):
    source, _ = series
    checkpoint = save_tiny_checkpoint(tmp_path)
    out = tmp_path / "denoised"
    assert (
        main(
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
                "--progress",
                "none",
            ]
        )
        == 0
    )
    assert {h.SeriesDescription for h in _headers(out)} == {"IPv2 denoised (tiny, strength medium)"}


def test_stored_values_follow_the_rescale_tags(series, tmp_path):
    source, _ = series
    volume = read_volume(source)
    # beyond what int16 holds at 1 HU: the slope must grow, to 65534 / 32767 = 2
    wide = volume.with_array(np.linspace(-65534, 65534, volume.array.size, dtype=np.float32).reshape(volume.shape))
    assert rescale_for(wide.array) == (2.0, 0.0)
    assert rescale_for(volume.array) == (1.0, 0.0)
    out = write_derived_series(wide, tmp_path / "wide", volume.metadata["dicom_files"], "test")
    for k, h in enumerate(_headers(out)):
        assert (float(h.RescaleSlope), float(h.RescaleIntercept), h.PixelRepresentation) == (2.0, 0.0, 1)
        hu = h.pixel_array.astype(np.float64) * 2.0
        assert np.abs(hu - wide.array[k]).max() <= 1.0  # half a step of 2 HU


def test_derived_series_is_refused_or_written_whole(series, tmp_path, monkeypatch, capsys):
    source, _ = series
    nrrd = write_volume(Volume(chest_like((4, 48, 48))), tmp_path / "scan.nrrd")
    base = ["denoise", "--model", "nlm", *SIGMA, "--progress", "none"]
    assert main(base + ["--in", str(nrrd), "--out", str(tmp_path / "d"), "--format", "dicom"]) == 2
    assert "needs a DICOM series as input" in capsys.readouterr().err
    assert main(base + ["--in", str(source), "--out", str(tmp_path / "x.nrrd"), "--format", "dicom"]) == 2
    assert "names a volume file" in capsys.readouterr().err
    assert main(base + ["--in", str(source), "--out", str(tmp_path)]) == 2
    assert "delete the input" in capsys.readouterr().err

    out = tmp_path / "denoised"
    out.mkdir()
    (out / "earlier.txt").write_text("kept")
    assert main(base + ["--in", str(source), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err

    # a failure on the fourth slice leaves neither a half series nor a hidden folder behind
    calls = []
    original_save = pydicom.dataset.Dataset.save_as

    def failing_save(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(pydicom.dataset.Dataset, "save_as", failing_save)
    with pytest.raises(OSError):
        main(base + ["--in", str(source), "--out", str(tmp_path / "fresh")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["denoised", "scan.nrrd", "series"]
    assert [p.name for p in out.iterdir()] == ["earlier.txt"]
    monkeypatch.undo()
    # --overwrite replaces an earlier series of ipv2, never a folder holding other files
    assert main(base + ["--in", str(source), "--out", str(out), "--overwrite"]) == 2
    assert "earlier.txt" in capsys.readouterr().err and (out / "earlier.txt").read_text() == "kept"
    (out / "earlier.txt").unlink()
    assert main(base + ["--in", str(source), "--out", str(out), "--overwrite"]) == 0
    assert len(list(out.glob("*.dcm"))) == 6


@pytest.fixture
def scans(tmp_path):
    """Two DICOM series, a volume file and a damaged volume file, in one folder."""
    folder = tmp_path / "scans"
    write_series(folder / "alpha", chest_like((4, 32, 32), seed=1), patient="A^A")
    write_series(folder / "beta", chest_like((4, 32, 32), seed=2), patient="B^B")
    write_volume(Volume(chest_like((4, 32, 32), seed=4)), folder / "gamma.nrrd")
    (folder / "delta.nrrd").write_bytes(b"NRRD0004\ngarbage")
    (folder / "notes.txt").write_text("not a scan")
    return folder


def test_a_folder_of_scans_is_denoised_with_a_summary_and_skipped_when_done(scans, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["denoise", "--model", "nlm", *SIGMA, "--in", str(scans), "--out", str(out), "--progress", "none"]
    assert main(argv) == 2  # one scan failed
    text = capsys.readouterr().out
    assert "4 scans: 3 denoised, 0 skipped (already done), 1 failed" in text
    assert "failed  delta: " in text and "cannot be read" in text
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "alpha",
        "alpha.denoise.json",
        "beta",
        "beta.denoise.json",
        "denoise_accounts.csv",
        "gamma.denoise.json",
        "gamma.nrrd",
    ]
    assert {str(h.PatientName) for h in _headers(out / "beta")} == {"B^B"}
    assert read_volume(out / "gamma.nrrd").shape == (4, 32, 32)

    written = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    (scans / "delta.nrrd").unlink()
    assert main(argv) == 0
    assert "3 scans: 0 denoised, 3 skipped (already done), 0 failed" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == written

    # an output that is not the complete result is neither trusted nor replaced unasked
    next(iter(sorted((out / "alpha").iterdir()))).unlink()
    assert main(argv) == 2
    assert "alpha exists but is not a complete result" in capsys.readouterr().out
    assert main(argv + ["--overwrite"]) == 0
    assert len(list((out / "alpha").iterdir())) == 4


def test_ranks_share_the_scans(scans, tmp_path, monkeypatch, capsys):
    (scans / "delta.nrrd").unlink()
    out = tmp_path / "out"
    argv = ["denoise", "--model", "nlm", *SIGMA, "--in", str(scans), "--out", str(out), "--progress", "none"]
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert main(argv) == 0
    assert "3 scans (rank 1 of 2: 1 of 3): 1 denoised" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "beta",
        "beta.denoise.json",
        "denoise_accounts.csv",
    ]
    monkeypatch.setenv("RANK", "0")
    assert main(argv) == 0
    assert sorted(
        p.name for p in out.iterdir() if not p.name.endswith((".json", ".csv")) and not p.name.startswith(".")
    ) == ["alpha", "beta", "gamma.nrrd"]
    monkeypatch.setenv("RANK", "2")
    assert main(argv) == 2
    assert "RANK=2 and WORLD_SIZE=2" in capsys.readouterr().err


def test_every_scan_falls_to_exactly_one_rank():
    scans = [Scan(Path(str(i)), str(i), dicom=False) for i in range(7)]
    shares = [share_of_rank(scans, rank, 3) for rank in range(3)]
    assert [[s.name for s in share] for share in shares] == [["0", "3", "6"], ["1", "4"], ["2", "5"]]


def test_scans_that_would_share_an_output_name_are_refused(tmp_path):
    write_volume(Volume(chest_like((2, 16, 16))), tmp_path / "a.nrrd")
    write_volume(Volume(chest_like((2, 16, 16))), tmp_path / "a.nii.gz")
    with pytest.raises(Exception, match="would both be written as a"):
        find_scans(tmp_path)


def test_purify_reads_dicom_series_with_their_geometry(tmp_path):
    clean = chest_like((4, 64, 64), seed=3)
    noisy = clean + np.random.default_rng(2).normal(0, 60, clean.shape)
    write_series(tmp_path / "uldct", noisy)
    write_series(tmp_path / "ndct", clean)
    out = tmp_path / "purified"
    assert (
        main(
            [
                "purify",
                "--lq",
                str(tmp_path / "uldct"),
                "--gt",
                str(tmp_path / "ndct"),
                "--out",
                str(out),
                "--no-add-noise",
                "--weak",
                "none",
                "--device",
                "cpu",
                "--progress",
                "none",
            ]
        )
        == 0
    )
    target = read_volume(out / "train_target.nrrd")
    np.testing.assert_allclose(target.origin, ORIGIN, atol=1e-4)
    np.testing.assert_allclose(target.direction, np.column_stack([ROW, COLUMN, NORMAL]).ravel(), atol=1e-5)
    assert target.shape == (4, 64, 64)


def test_a_derived_series_needs_one_source_file_per_slice():
    from ipv2.errors import InputError
    from ipv2.io.dicom import require_derivable

    one_file = Volume(np.zeros((3, 8, 8), np.float32), metadata={"source": "enhanced", "dicom_files": ["all.dcm"]})
    with pytest.raises(InputError, match="1 DICOM files hold 3 slices"):
        require_derivable(one_file)
    with pytest.raises(InputError, match="not a DICOM series"):
        require_derivable(Volume(np.zeros((3, 8, 8), np.float32), metadata={"source": "scan.nrrd"}))
    require_derivable(Volume(np.zeros((2, 8, 8), np.float32), metadata={"dicom_files": ["a", "b"]}))


def test_a_second_run_on_the_same_series_or_results_folder_is_refused(series, scans, tmp_path, capsys):
    from ipv2.io.lock import output_lock

    source, _ = series
    base = ["denoise", "--model", "nlm", *SIGMA, "--progress", "none"]
    out = tmp_path / "denoised"
    with output_lock(out):  # the lock of a series is beside it: the folder appears only when complete
        assert main(base + ["--in", str(source), "--out", str(out)]) == 2
    assert "another ipv2 run" in capsys.readouterr().err and not out.exists()
    results = tmp_path / "results"
    with output_lock(results, folder=True):
        assert main(base + ["--in", str(scans), "--out", str(results)]) == 2
    assert "another ipv2 run" in capsys.readouterr().err
    assert not results.exists()  # nothing written; the folder made for the lock is gone with it


def test_the_derived_series_carries_the_accounts_key_figures_in_its_comments(series, tmp_path):
    source, _ = series
    out = tmp_path / "denoised"
    assert (
        main(["denoise", "--model", "nlm", *SIGMA, "--in", str(source), "--out", str(out), "--progress", "none"]) == 0
    )
    comments = {h.ImageComments for h in _headers(out)}
    assert len(comments) == 1
    comment = comments.pop()
    assert comment.startswith("IPv2 nlm, sigma") and "structure check" in comment
    assert (tmp_path / "denoised.denoise.json").is_file()
    assert (
        main(
            [
                "denoise",
                "--model",
                "nlm",
                *SIGMA,
                "--in",
                str(source),
                "--out",
                str(tmp_path / "quiet"),
                "--progress",
                "none",
                "--no-account",
            ]
        )
        == 0
    )
    assert all("ImageComments" not in h for h in _headers(tmp_path / "quiet"))
