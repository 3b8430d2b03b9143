"""DICOM series as hospitals export them, defects included: each derived slice carries its
source slice's own geometry, and a series that is not one regular grid of CT slices is refused
before any work with one message naming the file and the problem."""

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest

from ipv2.cli.main import main
from ipv2.errors import InputError
from ipv2.io import read_volume
from ipv2.testing import chest_like
from tests.support.dicom_factory import AXIAL, SLICE_MM, axial_positions, ct_slice, new_uids, write_series

DENOISE = ["denoise", "--model", "nlm", "--sigma", "20", "--progress", "none"]
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
# Oblique rows and columns; the positions step along their normal.
OBLIQUE = (1.0, 0.0, 0.0, 0.0, 0.8, -0.6)


def _oblique_positions(count: int) -> list:
    normal = np.cross(OBLIQUE[:3], OBLIQUE[3:])
    return [np.array([-20.0, -30.123, 15.457]) + k * 1.25 * normal for k in range(count)]


def test_each_derived_slice_carries_its_source_slice_geometry(tmp_path):
    source = tmp_path / "series"
    files = write_series(source, _oblique_positions(6), orientation=OBLIQUE)
    assert main(DENOISE + ["--in", str(source), "--out", str(tmp_path / "derived")]) == 0
    by_uid = {str(pydicom.dcmread(str(f)).SOPInstanceUID): pydicom.dcmread(str(f)) for f in files}
    derived = [pydicom.dcmread(str(path)) for path in sorted((tmp_path / "derived").glob("*.dcm"))]
    assert len(derived) == 6
    for ds in derived:
        origin = by_uid[str(ds.SourceImageSequence[0].ReferencedSOPInstanceUID)]
        assert [float(v) for v in ds.ImagePositionPatient] == [float(v) for v in origin.ImagePositionPatient]
        assert [float(v) for v in ds.ImageOrientationPatient] == [float(v) for v in origin.ImageOrientationPatient]
        assert [float(v) for v in ds.PixelSpacing] == [float(v) for v in origin.PixelSpacing]
    along = [
        float(np.dot([float(v) for v in ds.ImagePositionPatient], np.cross(OBLIQUE[:3], OBLIQUE[3:]))) for ds in derived
    ]
    assert np.all(np.diff(along) > 0)  # written in slice order along the normal


def _missing(positions):
    return positions[:4] + positions[5:]


def _uneven(positions):
    return positions[:4] + [p + [0, 0, 1.0] for p in positions[4:]]


def _doubled(positions):
    return positions[:4] + [positions[3]] + positions[4:]


def _tilted(positions):
    shear = math.tan(math.radians(15)) * SLICE_MM
    return [p + [0, k * shear, 0] for k, p in enumerate(positions)]


@pytest.mark.parametrize(
    "defect, expected",
    [
        (_missing, "1 slice is missing"),
        (_uneven, "the slice spacing is uneven"),
        (_doubled, "holds a slice twice"),
        (_tilted, "gantry tilt or shear"),
    ],
)
def test_a_series_off_a_regular_grid_is_refused_naming_the_problem(tmp_path, capsys, defect, expected):
    source = tmp_path / "series"
    write_series(source, defect(axial_positions(8)))
    with pytest.raises(InputError, match=expected):
        read_volume(source)
    for out in (tmp_path / "derived", tmp_path / "volume.nrrd"):
        assert main(DENOISE + ["--in", str(source), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert expected in err and str(source) in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["series"]


def _add_slice(folder: Path, name: str, position, orientation=AXIAL, **kwargs) -> Path:
    uids = {key: str(value) for key, value in zip(("study", "series", "frame"), _uids_of(folder))}
    ds = ct_slice(chest_like((1, 48, 48), seed=9)[0], position, orientation, uids, instance=99, **kwargs)
    ds.save_as(folder / name, enforce_file_format=True)
    return folder / name


def _uids_of(folder: Path):
    ds = pydicom.dcmread(str(next(folder.iterdir())), stop_before_pixels=True)
    return ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID


def test_a_localizer_of_the_same_series_is_refused(tmp_path):
    source = tmp_path / "series"
    write_series(source, axial_positions(6))
    _add_slice(source, "SCOUT", (-19.2, 0.0, 40.0), CORONAL, image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"))
    with pytest.raises(InputError, match="SCOUT: a localizer"):
        read_volume(source)


def test_a_slice_of_another_orientation_is_refused(tmp_path):
    source = tmp_path / "series"
    write_series(source, axial_positions(6))
    _add_slice(source, "REFORMAT", (-19.2, 0.0, 40.0), CORONAL)
    with pytest.raises(InputError, match="REFORMAT: orientation .* mixes orientations|mixes orientations"):
        read_volume(source)


def test_a_truncated_slice_is_refused_not_left_out(tmp_path, capsys):
    source = tmp_path / "series"
    files = write_series(source, axial_positions(8))
    data = files[3].read_bytes()
    files[3].write_bytes(data[:-1000])
    assert main(DENOISE + ["--in", str(source), "--out", str(tmp_path / "derived")]) == 2
    err = capsys.readouterr().err
    assert f"{files[3]}: a DICOM file the series reader cannot read" in err and err.count("\n") == 1
    assert not (tmp_path / "derived").exists()


@pytest.mark.parametrize("modality", ["MR", "PT"])
def test_a_series_of_another_modality_is_refused(tmp_path, modality):
    source = tmp_path / "series"
    write_series(source, axial_positions(4), modality=modality)
    with pytest.raises(InputError, match=f"Modality {modality}, not CT"):
        read_volume(source)


def test_a_secondary_capture_without_geometry_is_refused(tmp_path):
    source = tmp_path / "capture"
    source.mkdir()
    uids = new_uids()
    for k in range(3):
        ds = ct_slice(chest_like((1, 48, 48), seed=k)[0], None, None, uids, instance=k + 1)
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.save_as(source / f"SC{k}", enforce_file_format=True)
    with pytest.raises(InputError, match="a secondary capture"):
        read_volume(source)


@pytest.mark.parametrize("keyword", ["ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"])
def test_a_slice_without_geometry_is_refused(tmp_path, keyword):
    source = tmp_path / "series"
    files = write_series(source, axial_positions(5))
    ds = pydicom.dcmread(str(files[2]))
    delattr(ds, keyword)
    ds.save_as(files[2])
    with pytest.raises(InputError, match=f"{files[2].name}: the slice has no valid {keyword}"):
        read_volume(source)


def test_a_multi_frame_file_gets_the_multi_frame_message(tmp_path, capsys):
    source = tmp_path / "multiframe"
    source.mkdir()
    frames = chest_like((8, 48, 48), seed=2)
    ds = ct_slice(frames[0], (0.0, 0.0, 0.0))
    ds.NumberOfFrames = 8
    ds.PixelData = (np.round(np.clip(frames, -1024, 3071)) + 1024).astype("<u2").tobytes()
    ds.save_as(source / "ENHANCED", enforce_file_format=True)
    assert main(DENOISE + ["--in", str(source), "--out", str(tmp_path / "out.nrrd")]) == 2
    err = capsys.readouterr().err
    assert "ENHANCED: a multi-frame DICOM file (8 frames in one file)" in err and "4D" not in err
