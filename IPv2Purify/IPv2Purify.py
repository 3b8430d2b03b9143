"""IPv2Purify: purified training pairs and region masks from a uLDCT/NDCT pair."""

import logging
import os
from typing import Annotated, Optional

import qt
import slicer
import vtk
from slicer import vtkMRMLScalarVolumeNode
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

from ipv2.contract import (
    DEFAULT_DOSE,
    DEFAULT_MODE,
    DEFAULT_WEAK_DENOISER,
    MODES,
    PANEL_DOSE_RANGE,
    PANEL_SEED_RANGE,
    WEAK_DENOISERS,
)
from ipv2.protocol import PurifyCommand
from IPv2Lib.ChoiceLabels import showAllLabels
from IPv2Lib.Dependencies import Dependencies
from IPv2Lib.JobPanel import JobPanel
from IPv2Lib.PurifyLogic import PurifyLogic


class IPv2Purify(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("IPv2 Purify")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Filtering.Denoising")]
        self.parent.dependencies = []
        self.parent.contributors = ["IPv2 contributors"]
        self.parent.helpText = _(
            "Builds purified training pairs from a misaligned ultra-low-dose (uLDCT) / normal-dose (NDCT) "
            "lung CT pair: region masks (background, lung parenchyma, body), the training input and target, "
            "and the evaluation label. See the "
            "<a href='https://github.com/ipv2-ct/IPv2/blob/main/docs/slicer.md'>documentation</a>. "
            "<b>Research use only</b>: not a medical device; the bundled models were trained on synthetic data."
        )
        self.parent.acknowledgementText = _(
            "Implements the image purification strategy of Gong and Yu (IPv1, IPv2) for real-world "
            "ultra-low-dose lung CT denoising."
        )
        slicer.app.connect("startupCompleted()", self.registerSampleData)

    def registerSampleData(self):
        try:
            from IPv2Lib.SamplePair import SamplePair

            SamplePair.register(os.path.join(os.path.dirname(__file__), "Resources", "Icons"))
        except Exception as error:  # sample data is optional; never block startup
            logging.warning(f"IPv2 sample data not registered: {error}")


@parameterNodeWrapper
class IPv2PurifyParameterNode:
    lowDoseVolume: vtkMRMLScalarVolumeNode
    normalDoseVolume: vtkMRMLScalarVolumeNode
    mode: Annotated[str, Choice(list(MODES))] = DEFAULT_MODE
    removeBackground: bool = True
    addNoise: bool = True
    dose: Annotated[float, WithinRange(*PANEL_DOSE_RANGE)] = DEFAULT_DOSE
    seed: Annotated[int, WithinRange(*PANEL_SEED_RANGE)] = 0
    weakDenoiser: Annotated[str, Choice(list(WEAK_DENOISERS))] = DEFAULT_WEAK_DENOISER

    def settings(self):
        return PurifyCommand(
            mode=self.mode,
            remove_background=self.removeBackground,
            add_noise=self.addNoise,
            weak=self.weakDenoiser,
            dose=self.dose,
            seed=self.seed,
        )


# The combo boxes bound to Choice fields, with their codes: they show the codes' labels.
CHOICE_COMBO_BOXES = {"modeComboBox": MODES, "weakDenoiserComboBox": WEAK_DENOISERS}


class IPv2PurifyWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self.jobs = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/IPv2Purify.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = IPv2PurifyLogic()
        status = self.ui.statusTextEdit.appendPlainText
        self.jobs = JobPanel(
            self.ui.progressBar,
            status,
            qt.QTimer(),
            showError=self.showError,
            onLog=status,
            onEnded=self._checkCanApply,
        )
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self.initializeParameterNode()

    def cleanup(self):
        if self.jobs:
            self.jobs.cancelAndWait()  # Slicer is closing: end the backend and remove its work folder
        self.removeObservers()

    def enter(self):
        self.initializeParameterNode()

    def exit(self):
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)

    def onSceneStartClose(self, caller, event):
        # A running job cancels itself once its input nodes leave the scene (see SceneGuard).
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self):
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.lowDoseVolume:
            firstVolume = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
            if firstVolume:
                self._parameterNode.lowDoseVolume = firstVolume

    def setParameterNode(self, inputParameterNode: Optional[IPv2PurifyParameterNode]):
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            # connectGui fills the combo boxes with the codes; they show labels, the node keeps the codes.
            showAllLabels(self.ui, CHOICE_COMBO_BOXES)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)
            self._checkCanApply()

    def _checkCanApply(self, caller=None, event=None):
        if self.jobs is None or self.jobs.busy:
            return
        ready = bool(self._parameterNode and self._parameterNode.lowDoseVolume and self._parameterNode.normalDoseVolume)
        self.ui.applyButton.enabled = ready
        self.ui.applyButton.text = _("Apply")
        self.ui.applyButton.toolTip = _("Purify the pair") if ready else _("Select the uLDCT and the NDCT volumes")

    def onApplyButton(self):
        # No wait cursor: the checks may ask questions and install for minutes, with their own dialogs.
        with slicer.util.tryWithErrorDisplay(_("Purification could not start.")):
            if self.jobs.busy or Dependencies.ensureAll():
                if not self.jobs.busy:
                    self.ui.statusTextEdit.clear()
                self.jobs.startOrCancel(self.ui.applyButton, self.purifyJob)

    def purifyJob(self, callbacks):
        parameters = self._parameterNode
        return self.logic.purification.createJob(
            parameters.lowDoseVolume,
            parameters.normalDoseVolume,
            parameters.settings(),
            onSucceeded=self.showResult,
            **callbacks,
        )

    def showResult(self, job):
        for line in PurifyLogic.reportLines(job.result.report):
            self.ui.statusTextEdit.appendPlainText(line)
        if job.result.lowDoseNode.GetScene() is not None:  # the job's own input, whatever is selected now
            slicer.util.setSliceViewerLayers(background=job.result.lowDoseNode, fit=True)
        job.result.segmentationNode.GetDisplayNode().SetVisibility(True)

    def showError(self, job):
        self.ui.statusTextEdit.appendPlainText(str(job.error))
        slicer.util.errorDisplay(_("Purification failed."), detailedText=str(job.error))


class IPv2PurifyLogic(ScriptedLoadableModuleLogic):
    """The module logic: `process` runs headless (batch mode), `purification.createJob` runs in the background."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        self.purification = PurifyLogic()

    def getParameterNode(self):
        return IPv2PurifyParameterNode(super().getParameterNode())

    def process(self, lowDoseNode, normalDoseNode, settings=None):
        """Purifies the pair and returns its `PurifiedPairNodes` once done."""
        return self.purification.process(lowDoseNode, normalDoseNode, settings)


class IPv2PurifyTest(ScriptedLoadableModuleTest):
    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_IPv2Purify_samplePair()

    def test_IPv2Purify_samplePair(self):
        import SampleData

        from IPv2Lib.RegionSegmentation import REGION_STYLES
        from IPv2Lib.SamplePair import SAMPLE_NAME
        from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

        skipReason = Dependencies.skipReason()  # tests never install into the Slicer under test
        if skipReason:
            self.delayDisplay(skipReason)
            return
        self.delayDisplay("Loading the sample pair through Sample Data")
        lowDose, normalDose = SampleData.SampleDataLogic().downloadSamples(SAMPLE_NAME)
        before = slicer.util.arrayFromVolume(lowDose).copy()
        self.delayDisplay("Purifying in a background process")
        result = IPv2PurifyLogic().process(lowDose, normalDose, PurifyCommand(weak="tv"))
        names = [result.segmentationNode.GetSegmentation().GetNthSegment(i).GetName() for i in range(3)]
        self.assertEqual(names, [style.name for style in REGION_STYLES])
        reference = VolumeNodeConverter.toVolume(lowDose)
        for node in (result.trainInputNode, result.trainTargetNode, result.evalLabelNode):
            self.assertTrue(VolumeNodeConverter.toVolume(node).same_geometry(reference))
        self.assertTrue((slicer.util.arrayFromVolume(lowDose) == before).all())
        self.delayDisplay("Test passed")
