"""Closing the scene during a run: the job cancels itself and imports nothing, on real MRML."""

import numpy as np
import slicer
from harness import harnessJob, waitUntil

from IPv2Lib.BackendJob import JobState
from IPv2Lib.SceneGuard import inputsInScene
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter


def nodeNames(scene):
    return {scene.GetNthNode(index).GetName() for index in range(scene.GetNumberOfNodes())}


def sceneJob(scene, inputNode, tmp_path, *extra):
    """A backend-like job whose results become a node named after `inputNode`, guarded by the scene."""
    imported = []

    def importResults(workFolder):
        node = VolumeNodeConverter.toNewNode(VolumeNodeConverter.toVolume(inputNode), f"{inputNode.GetName()} result")
        imported.append(node)
        return node

    job, progress = harnessJob(tmp_path / "results", *extra, importResults=importResults, workFolder=tmp_path / "work")
    (tmp_path / "work").mkdir()
    job.resultsWanted = inputsInScene(inputNode, scene=scene)
    return job, progress, imported


def test_inputs_are_in_the_scene_until_it_closes(mrmlScene, obliqueCt):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    other = VolumeNodeConverter.toNewNode(obliqueCt, "patient NDCT")
    check = inputsInScene(node, other, None, scene=mrmlScene)
    assert check()
    mrmlScene.RemoveNode(other)
    assert not check()
    assert inputsInScene(node, scene=mrmlScene)()
    mrmlScene.Clear(0)
    assert not inputsInScene(node, scene=mrmlScene)()


def test_closing_the_scene_during_a_run_cancels_it(mrmlScene, obliqueCt, tmp_path):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    job, progress, imported = sceneJob(mrmlScene, node, tmp_path, "--steps", "1000", "--step-seconds", "0.05")
    job.start()
    waitUntil(lambda: len(progress) >= 2, job=job)
    mrmlScene.Clear(0)  # File > Close Scene
    waitUntil(job.poll)
    assert job.state == JobState.CANCELLED
    assert progress[-1]["done"] < 1000
    assert imported == [] and "patient uLDCT result" not in nodeNames(mrmlScene)
    assert list((tmp_path / "work").iterdir()) == []


def test_results_of_a_run_that_ended_as_the_scene_closed_are_not_imported_into_the_next(mrmlScene, obliqueCt, tmp_path):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    job, progress, imported = sceneJob(mrmlScene, node, tmp_path, "--steps", "1")
    job.start()
    waitUntil(lambda: not job.process.running)  # the backend finished and wrote its outputs
    mrmlScene.Clear(0)
    VolumeNodeConverter.toNewNode(obliqueCt, "next patient")  # the user goes on with a new scene
    waitUntil(job.poll)
    assert job.state == JobState.CANCELLED
    assert imported == [] and nodeNames(mrmlScene) >= {"next patient"}
    assert "patient uLDCT result" not in nodeNames(mrmlScene)


def test_a_run_whose_inputs_stay_imports_its_results(mrmlScene, obliqueCt, tmp_path):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    job, progress, imported = sceneJob(mrmlScene, node, tmp_path, "--steps", "1")
    job.run(pollSeconds=0.02)
    assert job.state == JobState.SUCCEEDED and len(imported) == 1
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(imported[0]), slicer.util.arrayFromVolume(node))
