"""The Sample Data pair shipped with the extension, and fresh phantom pairs, as real MRML nodes."""

import hashlib
import urllib.request

import numpy as np

from IPv2Lib.SamplePair import SAMPLE_FOLDER, SamplePair, sha256Checksum
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter


def test_a_generated_pair_has_two_scans_on_one_grid_with_true_regions(mrmlScene):
    import slicer

    lowDose, normalDose = SamplePair.generate(size=64, slices=4, seed=3, withTruthMasks=True)
    assert lowDose.GetName() == "IPv2 synthetic uLDCT" and normalDose.GetName() == "IPv2 synthetic NDCT"
    low, normal = VolumeNodeConverter.toVolume(lowDose), VolumeNodeConverter.toVolume(normalDose)
    assert low.same_geometry(normal, rtol=1e-6)
    assert low.shape == (4, 64, 64)
    assert not np.array_equal(low.array, normal.array)  # different dose and breathing state

    segmentation = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLSegmentationNode")
    names = {
        segmentation.GetSegmentation().GetNthSegment(k).GetName()
        for k in range(segmentation.GetSegmentation().GetNumberOfSegments())
    }
    assert names == {"Background", "Lung parenchyma", "Body"}
    lungId = segmentation.GetSegmentation().GetSegmentIdBySegmentName("Lung parenchyma")
    lung = slicer.util.arrayFromSegmentBinaryLabelmap(segmentation, lungId, lowDose)
    from ipv2.phantom import Acquisition, PhantomOptions, generate_phantom_pair

    expected = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(seed=3)).region_labels() == 2
    assert lung.any() and np.array_equal(lung.astype(bool), expected)


def test_the_shipped_pair_loads_as_two_scans_on_one_grid(mrmlScene):
    lowDose, normalDose = SamplePair.load()
    assert (lowDose.GetName(), normalDose.GetName()) == ("IPv2 synthetic uLDCT", "IPv2 synthetic NDCT")
    low, normal = VolumeNodeConverter.toVolume(lowDose), VolumeNodeConverter.toVolume(normalDose)
    assert low.same_geometry(normal, rtol=1e-6) and low.shape == (16, 192, 192)
    # Air in a corner, outside the body in both breathing states: -1000 HU, noisier at 2 % dose.
    lowAir, normalAir = low.array[:, :12, 90:102], normal.array[:, :12, 90:102]
    assert abs(lowAir.mean() + 1000) < 5 and abs(normalAir.mean() + 1000) < 5
    assert lowAir.std() > 3 * normalAir.std()


def test_sample_data_gets_one_file_and_one_node_name_per_scan_and_can_fetch_them(tmp_path):
    source = SamplePair.sampleDataSource("/icons")
    lists = [source[key] for key in ("uris", "fileNames", "nodeNames", "checksums")]
    assert all(len(values) == 2 for values in lists)
    assert len(set(source["nodeNames"])) == 2 and source["nodeNames"][0] == "IPv2 synthetic uLDCT"
    for uri, fileName, checksum in zip(source["uris"], source["fileNames"], source["checksums"]):
        copied = tmp_path / fileName
        urllib.request.urlretrieve(uri, copied)  # what SampleDataLogic.downloadFile does with the URI
        assert checksum == "SHA256:" + hashlib.sha256(copied.read_bytes()).hexdigest()
        assert checksum == sha256Checksum(SAMPLE_FOLDER / fileName)
