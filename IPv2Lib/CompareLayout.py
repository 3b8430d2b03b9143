"""The compare layout: input, denoised and removed side by side, in linked axial views.

Three slice views of their own (singleton tags below), not the Red, Yellow and Green views,
so the user's own views keep what they show; in a view group of their own, so that linking
moves these three together and nothing else. Everything here is MRML:

- the layout description is added to the layout node and chosen with
  `SetViewArrangement`, what `qMRMLLayoutManager::setLayout` does (Libs/MRML/Widgets/
  qMRMLLayoutManager.cxx, 5.8.1, lines 1124-1140); the layout logic creates the views'
  slice nodes from the description (`vtkMRMLLayoutLogic::CreateMissingViews`), and the
  layout manager, which observes the layout node, their widgets;
- each view's slice composite node is the one its slice logic will use: found by the view's
  layout name, else created with it, as `vtkMRMLSliceLogic::UpdateSliceCompositeNode` does
  (Libs/MRML/Logic/vtkMRMLSliceLogic.cxx, 5.8.1, lines 324-359), which then adopts it.
"""

import slicer

COMPARE_LAYOUT_ID = 2201
COMPARE_VIEW_GROUP = 2201
COMPARE_VIEWS = (
    ("IPv2CompareInput", "Input", "#7f7f7f"),
    ("IPv2CompareDenoised", "Denoised", "#4f8fd6"),
    ("IPv2CompareRemoved", "Removed", "#d6904f"),
)


def layoutDescription():
    views = "".join(
        f'<item><view class="vtkMRMLSliceNode" singletontag="{tag}">'
        f'<property name="orientation" action="default">Axial</property>'
        f'<property name="viewlabel" action="default">{label}</property>'
        f'<property name="viewcolor" action="default">{color}</property>'
        f'<property name="viewgroup" action="default">{COMPARE_VIEW_GROUP}</property>'
        f"</view></item>"
        for tag, label, color in COMPARE_VIEWS
    )
    return f'<layout type="horizontal">{views}</layout>'


def compositeNodeOf(sliceNode, scene):
    """The slice composite node of `sliceNode`'s view, made when no widget has made it yet."""
    compositeNode = slicer.vtkMRMLSliceLogic.GetSliceCompositeNode(sliceNode)
    if compositeNode is None:
        compositeNode = scene.AddNewNodeByClass("vtkMRMLSliceCompositeNode")
        compositeNode.SetLayoutName(sliceNode.GetLayoutName())
    return compositeNode


class CompareLayout:
    @staticmethod
    def show(inputNode, denoisedNode, removedNode, segmentationNode=None, layoutNode=None, scene=None):
        """Switches to the compare layout, one volume per view, views linked; the regions'
        segmentation, when given, shown in all three. Returns the three views' slice nodes."""
        scene = scene or slicer.mrmlScene
        layoutNode = layoutNode or scene.GetFirstNodeByClass("vtkMRMLLayoutNode")
        if layoutNode is None:
            raise RuntimeError("the scene has no layout node")
        if not layoutNode.IsLayoutDescription(COMPARE_LAYOUT_ID):
            layoutNode.AddLayoutDescription(COMPARE_LAYOUT_ID, layoutDescription())
        else:
            layoutNode.SetLayoutDescription(COMPARE_LAYOUT_ID, layoutDescription())
        layoutNode.RemoveAllMaximizedViewNodes()
        layoutNode.SetViewArrangement(COMPARE_LAYOUT_ID)
        sliceNodes = []
        for (tag, _label, _color), volumeNode in zip(COMPARE_VIEWS, (inputNode, denoisedNode, removedNode)):
            sliceNode = scene.GetSingletonNode(tag, "vtkMRMLSliceNode")
            if sliceNode is None:
                raise RuntimeError(f"the compare layout did not create its view {tag}")
            compositeNode = compositeNodeOf(sliceNode, scene)
            compositeNode.SetBackgroundVolumeID(volumeNode.GetID())
            compositeNode.SetForegroundVolumeID(None)
            compositeNode.SetLabelVolumeID(None)
            compositeNode.SetLinkedControl(True)
            sliceNodes.append(sliceNode)
        if segmentationNode is not None:
            CompareLayout.showSegmentationIn(segmentationNode, sliceNodes)
        return sliceNodes

    @staticmethod
    def showSegmentationIn(segmentationNode, sliceNodes):
        """A display node restricted to some views gets these views added; one shown everywhere
        (no views listed) already shows here."""
        display = segmentationNode.GetDisplayNode()
        if display is None:
            segmentationNode.CreateDefaultDisplayNodes()
            display = segmentationNode.GetDisplayNode()
        display.SetVisibility(True)
        if display.GetNumberOfViewNodeIDs():
            for sliceNode in sliceNodes:
                display.AddViewNodeID(sliceNode.GetID())

    @staticmethod
    def regionsOf(inputNode, scene=None):
        """The latest segmentation whose reference geometry is `inputNode` (IPv2 Purify's regions), or None."""
        scene = scene or slicer.mrmlScene
        role = slicer.vtkMRMLSegmentationNode.GetReferenceImageGeometryReferenceRole()
        found = None
        for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode")):
            node = scene.GetNthNodeByClass(index, "vtkMRMLSegmentationNode")
            if node.GetNodeReference(role) is inputNode:
                found = node
        return found
