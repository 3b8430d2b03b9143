"""The compare layout on real MRML: views made by Slicer's layout logic, linked by its link logic."""

import numpy as np
import pytest
import slicer

from ipv2.contract import LABEL_BACKGROUND, LABEL_LUNG
from IPv2Lib.CompareLayout import COMPARE_LAYOUT_ID, COMPARE_VIEW_GROUP, COMPARE_VIEWS, CompareLayout, compositeNodeOf
from IPv2Lib.RegionSegmentation import RegionSegmentation
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter


@pytest.fixture
def layoutNode(mrmlScene):
    """The layout logic Slicer's layout manager runs, on the scene, in the conventional layout."""
    layoutLogic = slicer.vtkMRMLLayoutLogic()
    layoutLogic.SetMRMLScene(mrmlScene)
    layoutLogic.GetLayoutNode().SetViewArrangement(slicer.vtkMRMLLayoutNode.SlicerLayoutConventionalView)
    yield layoutLogic.GetLayoutNode()
    layoutLogic.SetMRMLScene(None)


@pytest.fixture
def volumes(mrmlScene, obliqueCt):
    inputNode = VolumeNodeConverter.toNewNode(obliqueCt, "scan")
    denoised = VolumeNodeConverter.toNewNode(
        obliqueCt.with_array(obliqueCt.array * 0.5), "scan denoised", like=inputNode
    )
    removed = VolumeNodeConverter.toNewNode(obliqueCt.with_array(obliqueCt.array * 0.5), "scan removed", like=inputNode)
    return inputNode, denoised, removed


def test_the_three_views_show_input_denoised_and_removed(mrmlScene, layoutNode, volumes):
    sliceNodes = CompareLayout.show(*volumes, layoutNode=layoutNode)
    assert layoutNode.GetViewArrangement() == COMPARE_LAYOUT_ID
    assert [node.GetLayoutName() for node in sliceNodes] == [tag for tag, _, _ in COMPARE_VIEWS]
    for sliceNode, volumeNode in zip(sliceNodes, volumes):
        assert sliceNode.GetOrientation() == "Axial" and sliceNode.GetViewGroup() == COMPARE_VIEW_GROUP
        compositeNode = slicer.vtkMRMLSliceLogic.GetSliceCompositeNode(sliceNode)
        assert compositeNode.GetBackgroundVolumeID() == volumeNode.GetID()
        assert compositeNode.GetForegroundVolumeID() is None and compositeNode.GetLinkedControl()
    # The user's own views show what they showed.
    red = slicer.vtkMRMLSliceLogic.GetSliceCompositeNode(mrmlScene.GetSingletonNode("Red", "vtkMRMLSliceNode"))
    assert red is None or red.GetBackgroundVolumeID() is None


def test_a_second_compare_reuses_the_views(mrmlScene, layoutNode, volumes):
    first = CompareLayout.show(*volumes, layoutNode=layoutNode)
    counts = (
        mrmlScene.GetNumberOfNodesByClass("vtkMRMLSliceNode"),
        mrmlScene.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode"),
    )
    layoutNode.SetViewArrangement(slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpView)
    second = CompareLayout.show(*reversed(volumes), layoutNode=layoutNode)
    assert [node.GetID() for node in second] == [node.GetID() for node in first]
    assert counts == (
        mrmlScene.GetNumberOfNodesByClass("vtkMRMLSliceNode"),
        mrmlScene.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode"),
    )
    assert slicer.vtkMRMLSliceLogic.GetSliceCompositeNode(second[0]).GetBackgroundVolumeID() == volumes[2].GetID()


def test_the_slice_logic_of_a_view_adopts_its_composite_node(mrmlScene, layoutNode, volumes):
    """What the view's widget does when the layout manager makes it: its logic takes the node set up here."""
    sliceNode = CompareLayout.show(*volumes, layoutNode=layoutNode)[1]
    compositeNode = slicer.vtkMRMLSliceLogic.GetSliceCompositeNode(sliceNode)
    sliceLogic = slicer.vtkMRMLSliceLogic()
    sliceLogic.SetMRMLScene(mrmlScene)
    sliceLogic.SetSliceNode(sliceNode)
    assert sliceLogic.GetSliceCompositeNode().GetID() == compositeNode.GetID()
    assert sliceLogic.GetSliceCompositeNode().GetBackgroundVolumeID() == volumes[1].GetID()


def test_moving_one_view_moves_the_other_two_and_no_other_view(mrmlScene, layoutNode, volumes):
    sliceNodes = CompareLayout.show(*volumes, layoutNode=layoutNode)
    red = mrmlScene.GetSingletonNode("Red", "vtkMRMLSliceNode")
    compositeNodeOf(red, mrmlScene).SetLinkedControl(True)  # the user linked their own views too
    moved = sliceNodes[2]
    moved.SetInteracting(1)
    moved.SetInteractionFlags(moved.SliceToRASFlag)
    moved.SetSliceOffset(12.5)
    moved.SetInteracting(0)
    assert [node.GetSliceOffset() for node in sliceNodes] == [12.5, 12.5, 12.5]
    assert red.GetSliceOffset() == 0.0


def test_the_regions_of_the_input_show_in_the_compare_views(mrmlScene, layoutNode, volumes, obliqueCt):
    inputNode = volumes[0]
    labels = np.where(obliqueCt.array < -500, LABEL_LUNG, 0).astype(np.uint8)
    labels[:, :3, :] = LABEL_BACKGROUND
    RegionSegmentation.create(labels, volumes[1], "denoised regions")
    regions = RegionSegmentation.create(labels, inputNode, "scan regions")
    assert CompareLayout.regionsOf(inputNode) is regions
    regions.GetDisplayNode().SetVisibility(False)
    regions.GetDisplayNode().AddViewNodeID(mrmlScene.GetSingletonNode("Red", "vtkMRMLSliceNode").GetID())
    sliceNodes = CompareLayout.show(*volumes, segmentationNode=regions, layoutNode=layoutNode)
    display = regions.GetDisplayNode()
    assert display.GetVisibility()
    assert all(display.IsDisplayableInView(node.GetID()) for node in sliceNodes)


def test_a_volume_without_regions_has_none(mrmlScene, volumes):
    assert CompareLayout.regionsOf(volumes[0]) is None
