"""The synthetic uLDCT/NDCT pair of Slicer's Sample Data module, and fresh phantom pairs.

The Sample Data pair ships with the extension (Resources/SampleData, written by
`ipv2 phantom --size 192 --slices 16 --seed 0`; see the README there). It is registered
with file URIs, so Sample Data loads it through its ordinary path, from the thumbnail and
from `SampleData.downloadSample(SAMPLE_NAME)` alike: copied into Slicer's cache, checked
against its SHA-256 and read by Slicer's own reader. Nothing is downloaded or computed, and
neither torch nor the backend is imported in Slicer's process.

`SamplePair.generate` renders a new pair with the backend's phantom in this process (it
needs torch and scipy); scripts and tests use it.
"""

import hashlib
import os
from pathlib import Path

from IPv2Lib.RegionSegmentation import RegionSegmentation
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

CATEGORY = "IPv2"
SAMPLE_NAME = "IPv2 synthetic chest pair"
SAMPLE_FOLDER = Path(__file__).resolve().parent / "Resources" / "SampleData"
# (file name, node name): the uLDCT first, as Sample Data returns the first node alone.
SAMPLE_FILES = (("IPv2SyntheticUldct.nrrd", "IPv2 synthetic uLDCT"), ("IPv2SyntheticNdct.nrrd", "IPv2 synthetic NDCT"))


def sha256Checksum(path):
    """Sample Data's checksum notation: "SHA256:<hex digest>"."""
    return "SHA256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


class SamplePair:
    @staticmethod
    def sampleDataSource(iconFolder):
        """The keyword arguments of `SampleDataLogic.registerCustomSampleDataSource` for the pair.

        No file type: Slicer's reader tells it from the .nrrd name (Slicer 5.6 takes
        `loadFileType`, later ones `loadFileTypes`).
        """
        paths = [SAMPLE_FOLDER / fileName for fileName, _ in SAMPLE_FILES]
        return dict(
            category=CATEGORY,
            sampleName=SAMPLE_NAME,
            uris=[path.as_uri() for path in paths],
            fileNames=[fileName for fileName, _ in SAMPLE_FILES],
            nodeNames=[nodeName for _, nodeName in SAMPLE_FILES],
            checksums=[sha256Checksum(path) for path in paths],
            thumbnailFileName=os.path.join(iconFolder, "IPv2Purify.png"),
        )

    @staticmethod
    def register(iconFolder):
        """Adds the IPv2 category to Sample Data (call on `startupCompleted`)."""
        import SampleData

        SampleData.SampleDataLogic.registerCustomSampleDataSource(**SamplePair.sampleDataSource(iconFolder))

    @staticmethod
    def load(scene=None):
        """The shipped pair as new nodes, without Sample Data; returns (uLDCT node, NDCT node)."""
        from ipv2.io import read_volume

        return tuple(
            VolumeNodeConverter.toNewNode(read_volume(SAMPLE_FOLDER / fileName), nodeName, scene=scene)
            for fileName, nodeName in SAMPLE_FILES
        )

    @staticmethod
    def generate(size=192, slices=16, seed=0, withTruthMasks=False):
        """A new phantom pair rendered by the backend in this process; returns (uLDCT node, NDCT node).

        The two scans differ by a breathing motion, as in a real paired acquisition. With
        `withTruthMasks`, the phantom's true regions are added as a segmentation.
        """
        from ipv2.phantom import Acquisition, PhantomOptions, generate_phantom_pair

        pair = generate_phantom_pair(Acquisition.resolve(size, slices), PhantomOptions(seed=seed))
        lowDose = VolumeNodeConverter.toNewNode(pair.uldct, SAMPLE_FILES[0][1])
        normalDose = VolumeNodeConverter.toNewNode(pair.ndct, SAMPLE_FILES[1][1])
        if withTruthMasks:
            RegionSegmentation.create(pair.region_labels(), lowDose, "IPv2 synthetic regions (truth)")
        return lowDose, normalDose
