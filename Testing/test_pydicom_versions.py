"""`PythonSlicer -m ipv2 denoise` writes a derived DICOM series with the pydicom Slicer ships.

Slicer 5.8 and 5.10 ship pydicom 2.4.4 (Slicer's SuperBuild/External_python-dicom-requirements.cmake),
which is pinned whenever IPv2 installs anything; later Slicers and the backend's own install
have pydicom 3. The same run is made with each: pydicom 2.4.4 is fetched from the package
registry into a folder put first on the path (skipped when the registry cannot be reached).
"""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SLICER_5_8_PYDICOM = "2.4.4"

WRITE_SERIES_AND_DENOISE = r"""
import subprocess, sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from ipv2.io.pydicom_compat import save_as_file_format
from ipv2.testing import chest_like

expected, folder, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
assert expected in ("", pydicom.__version__), pydicom.__version__
CT = "1.2.840.10008.5.1.4.1.1.2"
study, frame, series = generate_uid(), generate_uid(), generate_uid()
slices = np.round(chest_like((4, 48, 48))).astype(np.int16)
folder.mkdir()
for k, pixels in enumerate(slices):
    uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CT, uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CT, uid, "CT"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
    ds.PatientName, ds.PatientID, ds.InstanceNumber, ds.SeriesNumber = "Test^Patient", "42", k + 1, 3
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, 2.0 * k], [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing, ds.SliceThickness = [0.8, 0.8], 2.0
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    ds.PixelData = pixels.astype("<i2").tobytes()
    save_as_file_format(ds, folder / f"IM{k:04d}.dcm")
completed = subprocess.run([sys.executable, "-m", "ipv2", "denoise", "--in", str(folder), "--out", str(out),
                            "--model", "nlm", "--progress", "none"],
                           capture_output=True, text=True, encoding="utf-8", errors="replace")
assert completed.returncode == 0, completed.stderr
derived = [pydicom.dcmread(str(path)) for path in sorted(out.iterdir()) if path.suffix == ".dcm"]
assert len(derived) == 4
assert all(ds.StudyInstanceUID == study and ds.SeriesInstanceUID != series for ds in derived)
assert all("DERIVED" in list(ds.ImageType) for ds in derived)
print("pydicom", pydicom.__version__, "ok")
"""


@pytest.fixture(scope="module")
def slicer58Pydicom(tmp_path_factory):
    """A folder holding pydicom 2.4.4, unpacked from its wheel (pure Python)."""
    downloads = tmp_path_factory.mktemp("pydicom-wheel")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(downloads),
            f"pydicom=={SLICER_5_8_PYDICOM}",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=300,
    )
    wheels = list(downloads.glob("pydicom-*.whl"))
    if completed.returncode != 0 or not wheels:
        pytest.skip(f"pydicom {SLICER_5_8_PYDICOM} cannot be fetched from the package registry here")
    site = tmp_path_factory.mktemp("pydicom-site")
    with zipfile.ZipFile(wheels[0]) as wheel:
        wheel.extractall(site)
    return site


def runWithPath(tmp_path, pathFirst, expectedVersion):
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join([*map(str, pathFirst), str(REPOSITORY)])
    return subprocess.run(
        [
            sys.executable,
            "-c",
            WRITE_SERIES_AND_DENOISE,
            expectedVersion,
            str(tmp_path / "series"),
            str(tmp_path / "derived"),
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=environment,
        timeout=300,
    )


def test_a_derived_series_is_written_with_the_installed_pydicom(tmp_path):
    completed = runWithPath(tmp_path, [], "")
    assert completed.returncode == 0, completed.stderr[-3000:]


def test_a_derived_series_is_written_with_the_pydicom_of_slicer_5_8(tmp_path, slicer58Pydicom):
    completed = runWithPath(tmp_path, [slicer58Pydicom], SLICER_5_8_PYDICOM)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"pydicom {SLICER_5_8_PYDICOM} ok" in completed.stdout
