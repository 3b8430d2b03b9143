"""Volume nodes to backend volumes and back, geometry included.

MRML stores geometry as an IJK-to-RAS matrix; the backend (like ITK and every file format it
writes) uses LPS. The two differ by a sign flip of the first two physical axes, applied to
both the origin and the axis directions. Voxel arrays are (z, y, x) on both sides.
"""

import numpy as np
import slicer
import vtk

from ipv2.volume import Volume
from IPv2Lib.SubjectHierarchy import SubjectHierarchy

# RAS = LPS_TO_RAS @ LPS, and the flip is its own inverse.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


class VolumeNodeConverter:
    """Converts between `vtkMRMLScalarVolumeNode` and `ipv2.Volume` without loss."""

    @staticmethod
    def toVolume(volumeNode, copyArray=True):
        """The node's voxels and geometry as an `ipv2.Volume`; the node is not modified."""
        if volumeNode is None:
            raise ValueError("no volume node was given")
        if volumeNode.GetImageData() is None:
            raise ValueError(f"volume '{volumeNode.GetName()}' holds no image data")
        array = slicer.util.arrayFromVolume(volumeNode)
        if copyArray:
            array = np.array(array, copy=True)
        directionsRas = np.eye(3)
        matrix = vtk.vtkMatrix4x4()
        volumeNode.GetIJKToRASDirectionMatrix(matrix)
        for row in range(3):
            for column in range(3):
                directionsRas[row, column] = matrix.GetElement(row, column)
        directionLps = LPS_TO_RAS @ directionsRas
        originLps = LPS_TO_RAS @ np.array(volumeNode.GetOrigin(), dtype=float)
        return Volume(
            array=array,
            spacing=tuple(volumeNode.GetSpacing()),
            origin=tuple(originLps),
            direction=tuple(directionLps.reshape(-1)),
            metadata={"node": volumeNode.GetName()},
        )

    @staticmethod
    def applyGeometry(volume, volumeNode):
        """Sets the node's origin, spacing and axis directions from `volume`."""
        directionLps = np.asarray(volume.direction, dtype=float).reshape(3, 3)
        directionsRas = LPS_TO_RAS @ directionLps
        matrix = vtk.vtkMatrix4x4()
        for row in range(3):
            for column in range(3):
                matrix.SetElement(row, column, float(directionsRas[row, column]))
        volumeNode.SetIJKToRASDirectionMatrix(matrix)
        volumeNode.SetOrigin(*(LPS_TO_RAS @ np.asarray(volume.origin, dtype=float)))
        volumeNode.SetSpacing(*volume.spacing)

    @staticmethod
    def toNewNode(volume, name, like=None, labelmap=False, scene=None):
        """A new volume node holding `volume`, named `name` (made unique in the scene).

        With `like`, the new node also takes that node's parent transform, so that it shows
        where the input shows, its place in the subject hierarchy (the same study) and, for a
        scalar volume, its window/level and colours. That display node is made before the voxels
        arrive, so no automatic window/level is computed (its histogram is most of the time a
        new 512 x 512 x 300 node costs on the main thread: 0.7 s of 1.1 s).
        """
        scene = scene or slicer.mrmlScene
        className = "vtkMRMLLabelMapVolumeNode" if labelmap else "vtkMRMLScalarVolumeNode"
        node = scene.AddNewNodeByClass(className, scene.GenerateUniqueName(name))
        likeDisplay = None if like is None or labelmap else like.GetDisplayNode()
        if likeDisplay is not None and likeDisplay.IsA("vtkMRMLScalarVolumeDisplayNode"):
            node.CreateDefaultDisplayNodes()
            display = node.GetDisplayNode()
            display.AutoWindowLevelOff()
            display.SetWindowLevel(likeDisplay.GetWindow(), likeDisplay.GetLevel())
            if likeDisplay.GetColorNodeID():
                display.SetAndObserveColorNodeID(likeDisplay.GetColorNodeID())
        array = np.ascontiguousarray(volume.array)
        if labelmap:
            array = array.astype(np.uint8, copy=False)
        slicer.util.updateVolumeFromArray(node, array)
        VolumeNodeConverter.applyGeometry(volume, node)
        if node.GetDisplayNode() is None:
            node.CreateDefaultDisplayNodes()
        if like is not None and like.GetParentTransformNode() is not None:
            node.SetAndObserveTransformNodeID(like.GetParentTransformNode().GetID())
        if like is not None:
            SubjectHierarchy.placeBeside(node, like, scene)
        return node
