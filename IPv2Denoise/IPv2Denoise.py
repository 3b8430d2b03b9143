"""IPv2Denoise: denoise a CT volume, train on purified pairs, evaluate by region."""

import logging
import os
from typing import Annotated, Optional

import qt
import slicer
from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode
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

# Names only: the contract imports nothing, so listing the models costs nothing on the main thread.
from ipv2.contract import (
    DEFAULT_DEVICE,
    DEFAULT_MODEL,
    DEFAULT_STRENGTH,
    DEFAULT_TRAIN_STEPS,
    DENOISERS,
    DEVICES,
    NETWORKS,
    PANEL_TRAIN_STEPS_RANGE,
    STRENGTHS,
)
from ipv2.protocol import DenoiseCommand
from IPv2Lib.ChoiceLabels import showAllLabels, strengthToolTip
from IPv2Lib.CompareLayout import COMPARE_VIEWS, CompareLayout
from IPv2Lib.DenoiseAccount import accountLines
from IPv2Lib.DenoiseLogic import DenoiseLogic
from IPv2Lib.Dependencies import Dependencies
from IPv2Lib.EvaluateLogic import EvaluateLogic
from IPv2Lib.JobPanel import JobPanel
from IPv2Lib.TrainLogic import TrainLogic, lossOf


class IPv2Denoise(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("IPv2 Denoise")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Filtering.Denoising")]
        self.parent.dependencies = []
        self.parent.contributors = ["IPv2 contributors"]
        self.parent.helpText = _(
            "Denoises ultra-low-dose lung CT with a bundled model or a trained checkpoint, trains a model on "
            "purified pairs made by IPv2 Purify, and evaluates a denoised volume region by region. See the "
            "<a href='https://github.com/ipv2-ct/IPv2/blob/main/docs/slicer.md'>documentation</a>. "
            "<b>Research use only</b>: not a medical device; the bundled "
            "models were trained on synthetic data."
        )
        self.parent.acknowledgementText = _("Part of the IPv2 image purification extension.")


@parameterNodeWrapper
class IPv2DenoiseParameterNode:
    # Paths are read from their widgets.
    inputVolume: vtkMRMLScalarVolumeNode
    model: Annotated[str, Choice(list(DENOISERS))] = DEFAULT_MODEL
    strength: Annotated[str, Choice(list(STRENGTHS))] = DEFAULT_STRENGTH
    sameStrength: bool = True  # one strength in lung and body, else the two below
    strengthLung: Annotated[str, Choice(list(STRENGTHS))] = DEFAULT_STRENGTH
    strengthBody: Annotated[str, Choice(list(STRENGTHS))] = DEFAULT_STRENGTH
    device: Annotated[str, Choice(list(DEVICES))] = DEFAULT_DEVICE
    trainModel: Annotated[str, Choice(list(NETWORKS))] = DEFAULT_MODEL
    trainInputVolume: vtkMRMLScalarVolumeNode
    trainTargetVolume: vtkMRMLScalarVolumeNode
    trainSteps: Annotated[int, WithinRange(*PANEL_TRAIN_STEPS_RANGE)] = DEFAULT_TRAIN_STEPS
    predictionVolume: vtkMRMLScalarVolumeNode
    labelVolume: vtkMRMLScalarVolumeNode
    regionSegmentation: vtkMRMLSegmentationNode
    truthVolume: vtkMRMLScalarVolumeNode


# The combo boxes bound to Choice fields, with their codes: they show the codes' labels.
CHOICE_COMBO_BOXES = {
    "modelComboBox": DENOISERS,
    "strengthComboBox": STRENGTHS,
    "strengthLungComboBox": STRENGTHS,
    "strengthBodyComboBox": STRENGTHS,
    "deviceComboBox": DEVICES,
    "trainModelComboBox": NETWORKS,
}
STRENGTH_TOOL_TIPS = {
    name: strengthToolTip for name in ("strengthComboBox", "strengthLungComboBox", "strengthBodyComboBox")
}


class IPv2DenoiseWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self.jobs = None
        self.lastDenoise = None  # the latest run's DenoiseResult, for Compare

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/IPv2Denoise.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = IPv2DenoiseLogic()
        self.jobs = JobPanel(
            self.ui.progressBar,
            self.ui.statusLabel.setText,
            qt.QTimer(),
            showError=lambda job: slicer.util.errorDisplay(str(job.error)),
            onProgress=lambda record: self.showLoss(lossOf(record)),
            onLog=self.onLog,
        )
        for button, makeJob in (
            (self.ui.denoiseButton, self.denoiseJob),
            (self.ui.trainButton, self.trainJob),
            (self.ui.evaluateButton, self.evaluateJob),
        ):
            button.connect(
                "clicked(bool)", lambda checked=False, button=button, makeJob=makeJob: self.onClicked(button, makeJob)
            )
        self.ui.sameStrengthCheckBox.connect("toggled(bool)", self.onSameStrengthToggled)
        self.ui.modelComboBox.connect("currentIndexChanged(int)", lambda index: self.updateStrengthControls())
        self.ui.checkpointPathLineEdit.connect(
            "currentPathChanged(QString)", lambda path: self.updateStrengthControls()
        )
        self.ui.compareButton.connect("clicked(bool)", lambda checked=False: self.onCompare())
        self.ui.compareButton.enabled = False
        # A running job cancels itself once its input nodes leave the scene (see SceneGuard).
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, lambda *args: self.setParameterNode(None))
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.setParameterNode(self.logic.getParameterNode())

    def onSceneEndClose(self, caller=None, event=None):
        """The closed scene took the parameter node and the last result with it: a new one for the new scene."""
        self.lastDenoise = None
        self.ui.compareButton.enabled = False
        self.setParameterNode(self.logic.getParameterNode())

    def cleanup(self):
        if self.jobs:
            self.jobs.cancelAndWait()  # Slicer is closing: end the backend and remove its work folder
        self.removeObservers()

    def setParameterNode(self, parameterNode: Optional[IPv2DenoiseParameterNode]):
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
        self._parameterNode = parameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            # connectGui fills the combo boxes with the codes; they show labels, the node keeps the codes.
            showAllLabels(self.ui, CHOICE_COMBO_BOXES, STRENGTH_TOOL_TIPS)
            self.updateStrengthControls()

    def onSameStrengthToggled(self, same):
        if not same and self._parameterNode:
            # Unlinking starts both regions at the strength used so far.
            self._parameterNode.strengthLung = self._parameterNode.strength
            self._parameterNode.strengthBody = self._parameterNode.strength
        self.updateStrengthControls()

    def updateStrengthControls(self):
        """One strength, or lung and body strengths when unlinked; none for a classical method."""
        same = self.ui.sameStrengthCheckBox.checked
        for widget in (self.ui.strengthLabel, self.ui.strengthComboBox):
            widget.visible = same
        for widget in (
            self.ui.strengthLungLabel,
            self.ui.strengthLungComboBox,
            self.ui.strengthBodyLabel,
            self.ui.strengthBodyComboBox,
        ):
            widget.visible = not same
        # From the box, not the node: this runs from the box's own signal, maybe before the node follows it.
        index = self.ui.modelComboBox.currentIndex
        boxModel = DENOISERS[index] if 0 <= index < len(DENOISERS) else ""
        classical = DenoiseCommand(model=self.ui.checkpointPathLineEdit.currentPath or boxModel).classical
        for widget in (
            self.ui.sameStrengthCheckBox,
            self.ui.strengthComboBox,
            self.ui.strengthLungComboBox,
            self.ui.strengthBodyComboBox,
        ):
            widget.enabled = not classical

    def denoiseJob(self, callbacks):
        p = self._parameterNode
        model = self.ui.checkpointPathLineEdit.currentPath or p.model
        lung, body = (None, None) if p.sameStrength else (p.strengthLung, p.strengthBody)
        return self.logic.denoising.createDenoiseJob(
            p.inputVolume, model, p.device, p.strength, lung, body, onSucceeded=self.showDenoised, **callbacks
        )

    def trainJob(self, callbacks):
        p = self._parameterNode
        pairs = [(p.trainInputVolume, p.trainTargetVolume)] if p.trainInputVolume and p.trainTargetVolume else []
        folder = self.ui.pairFolderPathLineEdit.currentPath
        checkpoint = self.ui.outputCheckpointPathLineEdit.currentPath
        # A path typed in the field was never confirmed by the save dialog: ask here.
        overwrite = (
            bool(checkpoint)
            and os.path.isfile(checkpoint)
            and slicer.util.confirmOkCancelDisplay(
                _("{path} already exists. Replace it when training completes?").format(path=checkpoint)
            )
        )
        return self.logic.training.createTrainJob(
            checkpoint,
            p.trainModel,
            p.trainSteps,
            pairNodes=pairs,
            pairFolders=[folder] if folder else [],
            device=p.device,
            overwrite=overwrite,
            onSucceeded=self.showCheckpoint,
            **callbacks,
        )

    def evaluateJob(self, callbacks):
        p = self._parameterNode
        return self.logic.evaluation.createEvaluateJob(
            p.predictionVolume,
            p.labelVolume,
            p.regionSegmentation,
            p.truthVolume,
            onSucceeded=self.showEvaluation,
            **callbacks,
        )

    def onClicked(self, button, makeJob):
        # No wait cursor: the checks may ask questions and install for minutes, with their own dialogs.
        with slicer.util.tryWithErrorDisplay(_("The run could not start.")):
            if self.jobs.busy or Dependencies.ensureAll():
                self.jobs.startOrCancel(button, makeJob)

    def onLog(self, line):
        logging.info(line)
        self.showLoss(lossOf(None, line))

    def showLoss(self, loss):
        if loss is not None:
            self.ui.lossLabel.text = f"{loss:.5g}"

    def showDenoised(self, job):
        self.lastDenoise = job.result
        slicer.util.setSliceViewerLayers(background=job.result.denoisedNode, fit=True)
        self.ui.statusLabel.setText("\n".join([_("Denoising done.")] + accountLines(job.result.account)))
        self.ui.compareButton.enabled = job.result.removed is not None

    def showCheckpoint(self, job):
        # Said, not selected: the Method the user sees stays what denoises until they choose the checkpoint.
        self.ui.statusLabel.setText(
            _("Checkpoint saved to {path}. To denoise with it, choose it as the Denoise checkpoint.").format(
                path=job.result
            )
        )

    def showEvaluation(self, job):
        table, report, figure = job.result
        self.ui.metricsTableView.setMRMLTableNode(table)
        if figure:
            pixmap = qt.QPixmap()
            pixmap.loadFromData(figure)
            self.ui.figureLabel.setPixmap(pixmap.scaledToWidth(max(self.ui.figureLabel.width, 300)))

    def onCompare(self):
        """Input, denoised and removed side by side in linked views, with the regions the run's
        strengths used, or else the input's regions from Purify, if any."""
        with slicer.util.tryWithErrorDisplay(_("The comparison could not be shown.")):
            result = self.lastDenoise
            if result is None or result.inputNode.GetScene() is None or result.denoisedNode.GetScene() is None:
                raise ValueError(_("Denoise first: the last result or its input is no longer in the scene."))
            layoutManager = slicer.app.layoutManager()
            regions = DenoiseLogic.regionsNode(result) or CompareLayout.regionsOf(result.inputNode)
            CompareLayout.show(
                result.inputNode,
                result.denoisedNode,
                DenoiseLogic.removedNode(result),
                regions,
                layoutNode=layoutManager.layoutLogic().GetLayoutNode(),
            )
            for tag, _label, _color in COMPARE_VIEWS:
                sliceWidget = layoutManager.sliceWidget(tag)
                if sliceWidget is not None:
                    sliceWidget.sliceController().fitSliceToBackground()


class IPv2DenoiseLogic(ScriptedLoadableModuleLogic):
    """The module's three tasks, a logic each; their `create*Job(...).run()` runs headless in batch mode."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        self.denoising = DenoiseLogic()
        self.training = TrainLogic()
        self.evaluation = EvaluateLogic()

    def getParameterNode(self):
        return IPv2DenoiseParameterNode(super().getParameterNode())

    def process(self, inputNode, model=DEFAULT_MODEL, device=DEFAULT_DEVICE, strength=DEFAULT_STRENGTH):
        return self.denoising.createDenoiseJob(inputNode, model, device, strength).run().denoisedNode


class IPv2DenoiseTest(ScriptedLoadableModuleTest):
    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_IPv2Denoise_samplePair()

    def test_IPv2Denoise_samplePair(self):
        from IPv2Lib.SamplePair import SamplePair
        from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

        skipReason = Dependencies.skipReason()  # tests never install into the Slicer under test
        if skipReason:
            self.delayDisplay(skipReason)
            return
        self.delayDisplay("Loading the sample pair")
        lowDose, _normalDose = SamplePair.load()
        self.delayDisplay("Denoising in a background process")
        denoised = IPv2DenoiseLogic().process(lowDose, device="cpu")
        self.assertEqual(denoised.GetName(), f"{lowDose.GetName()} denoised")
        self.assertTrue(VolumeNodeConverter.toVolume(denoised).same_geometry(VolumeNodeConverter.toVolume(lowDose)))
        self.delayDisplay("Test passed")
