"""Every result joins the study of its input, as Slicer's DICOM export needs to write it there.

Slicer's DICOM loader puts a series under a study item carrying `DICOM.StudyInstanceUID`
(and the other study tags) under a patient item (DICOMLib/DICOMPlugin.py). The export dialog
copies the DICOM attributes of the exported item's parent (study) and grandparent (patient)
into the exportable (qSlicerDICOMTagEditorWidget.cxx), and the scalar volume exporter writes
that StudyInstanceUID and generates a SeriesInstanceUID when the item has none
(DICOMScalarVolumePlugin.export). So a result placed under the input's study, with no series
UID of its own, is written as a new series of the same study. Here the study is built as the
loader builds it, on real MRML, and the results are made by the modules' own import steps.
"""

import numpy as np
import pytest
import slicer
from harness import writeBackendOutputs

from ipv2.testing import chest_like
from IPv2Lib.DenoiseLogic import DenoiseLogic, DenoiseOutputs
from IPv2Lib.PurifyLogic import PurifyLogic
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

STUDY_UID = "1.2.826.0.1.3680043.8.498.1"
SERIES_UID = "1.2.826.0.1.3680043.8.498.2"


@pytest.fixture
def dicomStudy(mrmlScene, obliqueCt):
    """A uLDCT and an NDCT series of one study, placed and tagged as Slicer's DICOM loader does."""
    constants = slicer.vtkMRMLSubjectHierarchyConstants
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(mrmlScene)
    patient = shNode.CreateSubjectItem(shNode.GetSceneItemID(), "Anonymous")
    shNode.SetItemAttribute(patient, constants.GetDICOMPatientNameAttributeName(), "Anonymous")
    study = shNode.CreateStudyItem(patient, "Chest")
    shNode.SetItemUID(study, constants.GetDICOMUIDName(), STUDY_UID)
    shNode.SetItemAttribute(study, constants.GetDICOMStudyInstanceUIDAttributeName(), STUDY_UID)
    nodes = []
    for index, (name, array) in enumerate((("uLDCT", obliqueCt.array), ("NDCT", chest_like(obliqueCt.shape, seed=7)))):
        node = VolumeNodeConverter.toNewNode(obliqueCt.with_array(array), name)
        item = shNode.GetItemByDataNode(node) or shNode.CreateItem(study, node)
        shNode.SetItemParent(item, study)
        shNode.SetItemUID(item, constants.GetDICOMUIDName(), f"{SERIES_UID}.{index}")
        nodes.append(node)
    return shNode, patient, study, nodes


def assertNewSeriesOfTheStudy(shNode, patient, study, node):
    item = shNode.GetItemByDataNode(node)
    assert item and shNode.GetItemParent(item) == study, f"{node.GetName()} is not in the input's study"
    assert shNode.GetItemParent(study) == patient
    # What the export dialog hands to the exporter: the study's attributes, the study UID among them.
    attribute = slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMStudyInstanceUIDAttributeName()
    assert shNode.GetItemAttribute(shNode.GetItemParent(item), attribute) == STUDY_UID
    # No series UID of its own: the exporter generates one, a new series.
    assert shNode.GetItemUID(item, slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMUIDName()) == ""


def test_purified_pair_and_regions_are_new_series_of_the_uldct_study(dicomStudy, tmp_path):
    shNode, patient, study, (lowDoseNode, normalDoseNode) = dicomStudy
    lowDose = VolumeNodeConverter.toVolume(lowDoseNode)
    writeBackendOutputs(tmp_path, lowDose)
    result = PurifyLogic.importOutputs(PurifyLogic.readOutputs(tmp_path, lowDose), lowDoseNode, normalDoseNode)
    for node in (result.segmentationNode, result.trainInputNode, result.trainTargetNode, result.evalLabelNode):
        assertNewSeriesOfTheStudy(shNode, patient, study, node)
    # The inputs keep their own series.
    assert shNode.GetItemUID(shNode.GetItemByDataNode(lowDoseNode), "DICOM") == f"{SERIES_UID}.0"
    assert shNode.GetNumberOfItemChildren(study) == 6


def test_denoised_volume_is_a_new_series_of_its_inputs_study(dicomStudy, obliqueCt):
    shNode, patient, study, (inputNode, _) = dicomStudy
    job = DenoiseLogic().createDenoiseJob(inputNode, "nlm")
    denoised = job.importResults(DenoiseOutputs(obliqueCt.with_array(obliqueCt.array * 0.5))).denoisedNode
    assert denoised.GetName() == "uLDCT denoised"
    assertNewSeriesOfTheStudy(shNode, patient, study, denoised)
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(denoised), (obliqueCt.array * 0.5).astype(np.float32))


def test_a_volume_outside_any_study_gives_results_beside_it(mrmlScene, obliqueCt):
    """A volume loaded from a file sits directly under the scene; its results do too."""
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(mrmlScene)
    inputNode = VolumeNodeConverter.toNewNode(obliqueCt, "scan")
    inputItem = shNode.GetItemByDataNode(inputNode) or shNode.CreateItem(shNode.GetSceneItemID(), inputNode)
    denoised = DenoiseLogic().createDenoiseJob(inputNode, "nlm").importResults(DenoiseOutputs(obliqueCt)).denoisedNode
    assert (
        shNode.GetItemParent(shNode.GetItemByDataNode(denoised))
        == shNode.GetItemParent(inputItem)
        == shNode.GetSceneItemID()
    )
