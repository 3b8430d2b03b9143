"""Volume nodes to backend volumes and back, on real MRML."""

import numpy as np
import slicer
import vtk

from ipv2.io import read_volume, write_volume
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter


def loadWithSlicerReader(path, scene):
    """Reads a file the way Slicer's Add Data does: through a volume storage node."""
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "loaded")
    storage = scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    storage.SetFileName(str(path))
    assert storage.ReadData(node), f"Slicer could not read {path}"
    return node


def test_volume_to_node_and_back_is_identical(mrmlScene, obliqueCt):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "chest")
    back = VolumeNodeConverter.toVolume(node)
    np.testing.assert_array_equal(back.array, obliqueCt.array)
    np.testing.assert_allclose(back.spacing, obliqueCt.spacing, atol=1e-9)
    np.testing.assert_allclose(back.origin, obliqueCt.origin, atol=1e-9)
    np.testing.assert_allclose(back.direction, obliqueCt.direction, atol=1e-9)


def ijkToRas(node):
    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return np.array([[matrix.GetElement(row, column) for column in range(4)] for row in range(4)])


def assertSamePhysicalImage(nodeA, nodeB):
    """Every voxel of A sits, with its value, on a voxel of B (whatever the index order)."""
    arrayA, arrayB = slicer.util.arrayFromVolume(nodeA), slicer.util.arrayFromVolume(nodeB)
    assert arrayA.size == arrayB.size
    k, j, i = np.indices(arrayA.shape).reshape(3, -1)
    ijkA = np.stack([i, j, k, np.ones_like(i)]).astype(float)
    ijkB = np.linalg.inv(ijkToRas(nodeB)) @ ijkToRas(nodeA) @ ijkA
    rounded = np.rint(ijkB[:3]).astype(int)
    np.testing.assert_allclose(ijkB[:3], rounded, atol=1e-4)
    np.testing.assert_array_equal(arrayB[rounded[2], rounded[1], rounded[0]], arrayA[k, j, i])


def test_backend_file_shows_in_slicer_with_the_same_geometry(mrmlScene, obliqueCt, tmp_path):
    path = write_volume(obliqueCt, tmp_path / "chest.nrrd")
    loaded = loadWithSlicerReader(path, mrmlScene)
    converted = VolumeNodeConverter.toNewNode(obliqueCt, "converted")
    np.testing.assert_allclose(ijkToRas(loaded), ijkToRas(converted), atol=1e-5)
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(loaded), obliqueCt.array)


def test_left_handed_grid_shows_the_same_physical_image(mrmlScene, mirroredCt, tmp_path):
    path = write_volume(mirroredCt, tmp_path / "mirrored.nrrd")
    loaded = loadWithSlicerReader(path, mrmlScene)
    converted = VolumeNodeConverter.toNewNode(mirroredCt, "converted")
    assertSamePhysicalImage(converted, loaded)
    back = VolumeNodeConverter.toVolume(converted)
    np.testing.assert_allclose(back.direction, mirroredCt.direction, atol=1e-12)


def test_node_written_by_slicer_reads_back_in_the_backend(mrmlScene, obliqueCt, tmp_path):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "chest")
    storage = mrmlScene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    storage.SetFileName(str(tmp_path / "fromSlicer.nrrd"))
    assert storage.WriteData(node)
    backend = read_volume(tmp_path / "fromSlicer.nrrd")
    assert backend.same_geometry(obliqueCt)
    np.testing.assert_allclose(backend.origin, obliqueCt.origin, atol=1e-4)
    np.testing.assert_array_equal(backend.array, obliqueCt.array)


def test_converting_leaves_the_input_node_unchanged(mrmlScene, obliqueCt):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "chest")
    before = np.array(slicer.util.arrayFromVolume(node))
    modifiedTime = node.GetMTime()
    volume = VolumeNodeConverter.toVolume(node)
    volume.array[...] = 0  # a copy: editing it must not reach the node
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), before)
    assert node.GetMTime() == modifiedTime


def test_new_node_takes_name_transform_and_study_of_its_source(mrmlScene, obliqueCt):
    source = VolumeNodeConverter.toNewNode(obliqueCt, "uLDCT")
    transform = mrmlScene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    source.SetAndObserveTransformNodeID(transform.GetID())
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(mrmlScene)
    patient = shNode.CreateSubjectItem(shNode.GetSceneItemID(), "patient")
    study = shNode.CreateStudyItem(patient, "study")
    shNode.CreateItem(study, source)  # where loading a DICOM series puts it

    result = VolumeNodeConverter.toNewNode(obliqueCt.with_array(obliqueCt.array + 1), "uLDCT denoised", like=source)
    assert result.GetName() == "uLDCT denoised"
    assert result.GetParentTransformNode() is transform
    assert shNode.GetItemParent(shNode.GetItemByDataNode(result)) == study
    again = VolumeNodeConverter.toNewNode(obliqueCt, "uLDCT denoised", like=source)
    assert again.GetName() != result.GetName()  # unique names: the first result is kept


def test_new_node_is_shown_with_the_window_and_colours_of_its_source(mrmlScene, obliqueCt):
    source = VolumeNodeConverter.toNewNode(obliqueCt, "uLDCT")
    sourceDisplay = source.GetDisplayNode()
    assert sourceDisplay.GetAutoWindowLevel()  # no source to follow: Slicer's automatic window
    sourceDisplay.AutoWindowLevelOff()
    sourceDisplay.SetWindowLevel(1500.0, -600.0)  # a lung window the user chose
    sourceDisplay.SetAndObserveColorNodeID("vtkMRMLColorTableNodeInvertedGrey")
    result = VolumeNodeConverter.toNewNode(obliqueCt.with_array(obliqueCt.array * 0.5), "uLDCT denoised", like=source)
    display = result.GetDisplayNode()
    assert not display.GetAutoWindowLevel()
    assert (display.GetWindow(), display.GetLevel()) == (1500.0, -600.0)
    assert display.GetColorNodeID() == "vtkMRMLColorTableNodeInvertedGrey"
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(result), (obliqueCt.array * 0.5).astype(np.float32))


def test_labelmap_node_holds_integer_labels(mrmlScene, obliqueCt):
    labels = (obliqueCt.array > -500).astype(np.uint8) + 1
    node = VolumeNodeConverter.toNewNode(obliqueCt.with_array(labels), "labels", labelmap=True)
    assert node.IsA("vtkMRMLLabelMapVolumeNode")
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), labels)
    assert slicer.util.arrayFromVolume(node).dtype == np.uint8
