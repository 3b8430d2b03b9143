"""Parent transforms on real MRML: inputs under different transforms are refused, results take the input's."""

import numpy as np
import pytest
import vtk
from harness import writeBackendOutputs

from ipv2.protocol import PurifyCommand
from IPv2Lib.EvaluateLogic import EvaluateLogic
from IPv2Lib.PurifyLogic import PurifyLogic
from IPv2Lib.RegionSegmentation import RegionSegmentation
from IPv2Lib.TrainLogic import TrainLogic
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter


def linearTransform(scene, name, shift):
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", name)
    matrix = vtk.vtkMatrix4x4()
    matrix.SetElement(0, 3, shift)
    transform.SetMatrixTransformToParent(matrix)
    return transform


@pytest.fixture
def pair(mrmlScene, obliqueCt):
    lowDose = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    normalDose = VolumeNodeConverter.toNewNode(obliqueCt.with_array(obliqueCt.array + 5), "patient NDCT")
    return lowDose, normalDose


def test_a_pair_under_different_transforms_is_refused_before_any_work(mrmlScene, pair):
    lowDose, normalDose = pair
    registration = linearTransform(mrmlScene, "Registration", 12.0)
    normalDose.SetAndObserveTransformNodeID(registration.GetID())
    with pytest.raises(ValueError, match="different transforms .*NDCT 'patient NDCT' under transform 'Registration'"):
        PurifyLogic().checkInputs(lowDose, normalDose, PurifyCommand())
    with pytest.raises(ValueError, match="different transforms"):
        TrainLogic().createTrainJob("unused.pt", "unet", 10, pairNodes=[(lowDose, normalDose)])
    lowDose.SetAndObserveTransformNodeID(linearTransform(mrmlScene, "Other", 12.0).GetID())
    with pytest.raises(ValueError, match="transform 'Other'.*transform 'Registration'"):
        PurifyLogic().checkInputs(lowDose, normalDose, PurifyCommand())


def test_a_pair_under_one_transform_is_accepted(mrmlScene, pair):
    lowDose, normalDose = pair
    registration = linearTransform(mrmlScene, "Registration", 12.0)
    for node in pair:
        node.SetAndObserveTransformNodeID(registration.GetID())
    checked = PurifyLogic().checkInputs(lowDose, normalDose, PurifyCommand())
    assert checked[0].same_geometry(VolumeNodeConverter.toVolume(lowDose))


def test_evaluation_inputs_under_different_transforms_are_refused(mrmlScene, pair, obliqueCt):
    prediction, label = pair
    regions = RegionSegmentation.create(np.zeros(obliqueCt.shape, np.uint8), prediction, "regions")
    label.SetAndObserveTransformNodeID(linearTransform(mrmlScene, "Registration", 3.0).GetID())
    with pytest.raises(ValueError, match="the evaluation label under transform 'Registration'"):
        EvaluateLogic().createEvaluateJob(prediction, label, regions)


def test_results_carry_the_inputs_transform_and_show_over_the_job_input(mrmlScene, pair, tmp_path):
    lowDose, normalDose = pair
    registration = linearTransform(mrmlScene, "Registration", 12.0)
    for node in pair:
        node.SetAndObserveTransformNodeID(registration.GetID())
    writeBackendOutputs(tmp_path, VolumeNodeConverter.toVolume(lowDose))
    outputs = PurifyLogic.readOutputs(tmp_path, VolumeNodeConverter.toVolume(lowDose))
    result = PurifyLogic.importOutputs(outputs, lowDose, normalDose)
    for node in (result.segmentationNode, result.trainInputNode, result.trainTargetNode, result.evalLabelNode):
        assert node.GetParentTransformNode() is registration, node.GetName()
    assert result.lowDoseNode is lowDose
