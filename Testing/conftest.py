"""Real MRML under pytest: a scene with the logics that slicer.util needs.

The `slicer-core` wheel holds MRML and the module logics but no application, so the scene,
the application logic and the volumes, colors and segmentations logics are set up here and
exposed the way `slicer.util` looks them up (`slicer.modules.<name>.logic()`).
"""

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from ipv2.testing import chest_like

REPOSITORY = Path(__file__).resolve().parents[1]
# Inside Slicer the installed scripted-modules folder, which holds IPv2Lib and ipv2, is on
# sys.path; in the source tree the repository root holds them.
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

slicer = pytest.importorskip("slicer", reason="the slicer-core wheel (test extras) is needed")

from ipv2.volume import Volume  # noqa: E402


class _ModuleWithLogic:
    def __init__(self, logic):
        self._logic = logic

    def logic(self):
        return self._logic


def _logicOnScene(logic, applicationLogic, scene):
    logic.SetMRMLApplicationLogic(applicationLogic)
    logic.SetMRMLScene(scene)
    return logic


@pytest.fixture
def mrmlScene():
    """A fresh scene set as `slicer.mrmlScene`, with volumes/colors/segmentations logics."""
    scene = slicer.vtkMRMLScene()
    applicationLogic = slicer.vtkSlicerApplicationLogic()
    applicationLogic.SetMRMLScene(scene)
    colors = _logicOnScene(slicer.vtkSlicerColorLogic(), applicationLogic, scene)
    volumes = _logicOnScene(slicer.vtkSlicerVolumesLogic(), applicationLogic, scene)
    segmentations = _logicOnScene(slicer.vtkSlicerSegmentationsModuleLogic(), applicationLogic, scene)
    previousScene = getattr(slicer, "mrmlScene", None)
    previousModules = getattr(slicer, "modules", None)
    slicer.mrmlScene = scene
    slicer.modules = types.SimpleNamespace(
        colors=_ModuleWithLogic(colors),
        volumes=_ModuleWithLogic(volumes),
        segmentations=_ModuleWithLogic(segmentations),
    )
    yield scene
    scene.Clear(True)
    slicer.mrmlScene = previousScene
    if previousModules is not None:
        slicer.modules = previousModules


def obliqueDirection(rightHanded=True):
    """A rotation about an oblique axis with flipped axes: nothing lines up by accident.

    Scanners give right-handed grids; a left-handed one (a mirrored slice order) is kept
    for the test that Slicer's reader, which reorders such slices, still sees the same
    physical image.
    """
    angle = np.deg2rad(20.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(0.3), -np.sin(0.3)], [0.0, np.sin(0.3), np.cos(0.3)]])
    flips = np.diag([1.0, -1.0, -1.0]) if rightHanded else np.diag([1.0, -1.0, 1.0])
    return tuple((rotation @ tilt @ flips).reshape(-1))


@pytest.fixture
def obliqueCt():
    """A CT volume with anisotropic spacing, a non-zero origin and a non-identity direction."""
    return Volume(
        chest_like((6, 48, 40)), spacing=(0.7, 0.8, 2.5), origin=(-31.5, 12.25, 107.0), direction=obliqueDirection()
    )


@pytest.fixture
def mirroredCt():
    """As obliqueCt, on a left-handed grid."""
    return Volume(
        chest_like((6, 48, 40), seed=1),
        spacing=(0.7, 0.8, 2.5),
        origin=(-31.5, 12.25, 107.0),
        direction=obliqueDirection(rightHanded=False),
    )
