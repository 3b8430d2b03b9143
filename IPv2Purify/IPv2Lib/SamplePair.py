"""A synthetic uLDCT/NDCT pair for Slicer's Sample Data module, generated here, never downloaded."""

import os

import slicer

from IPv2Lib.RegionSegmentation import RegionSegmentation
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

CATEGORY = "IPv2"
SAMPLE_NAME = "IPv2 synthetic chest pair"


class SamplePair:
    @staticmethod
    def load(size=192, slices=16, seed=0, withTruthMasks=False):
        """Generates the phantom pair with the backend and adds it to the scene.

        Returns (uLDCT node, NDCT node); the two scans differ by a breathing motion, as in
        a real paired acquisition.
        """
        from ipv2.phantom import generate_phantom_pair

        pair = generate_phantom_pair(size=size, slices=slices, seed=seed)
        lowDose = VolumeNodeConverter.toNewNode(pair.uldct, "IPv2 synthetic uLDCT")
        normalDose = VolumeNodeConverter.toNewNode(pair.ndct, "IPv2 synthetic NDCT")
        if withTruthMasks:
            RegionSegmentation.create(pair.region_labels(), lowDose, "IPv2 synthetic regions (truth)")
        return lowDose, normalDose

    @staticmethod
    def register(iconPath):
        """Adds the IPv2 category to Sample Data (call on `startupCompleted`)."""
        import SampleData

        def generate(source=None):
            with slicer.util.WaitCursor():
                lowDose, normalDose = SamplePair.load()
            slicer.util.setSliceViewerLayers(background=lowDose, fit=True)
            return [lowDose, normalDose]

        SampleData.SampleDataLogic.registerCustomSampleDataSource(
            category=CATEGORY, sampleName=SAMPLE_NAME, uris=["generated:ipv2-phantom"],
            fileNames=["IPv2SyntheticPair.nrrd"], nodeNames=["IPv2 synthetic uLDCT"],
            thumbnailFileName=os.path.join(iconPath, "IPv2Purify.png"), customDownloader=generate)
