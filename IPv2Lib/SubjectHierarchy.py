"""Keeping results in the study of the volume they were computed from."""

import slicer


class SubjectHierarchy:
    @staticmethod
    def placeBeside(node, referenceNode, scene=None):
        """Puts `node` under the subject hierarchy parent (the study) of `referenceNode`.

        A no-op where the scene has no subject hierarchy or the reference is not in it.
        """
        scene = scene or slicer.mrmlScene
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
        if shNode is None:
            return False
        referenceItem = shNode.GetItemByDataNode(referenceNode)
        item = shNode.GetItemByDataNode(node)
        if not referenceItem:
            return False
        parent = shNode.GetItemParent(referenceItem)
        if item:
            shNode.SetItemParent(item, parent)
        else:
            shNode.CreateItem(parent, node)
        return True
