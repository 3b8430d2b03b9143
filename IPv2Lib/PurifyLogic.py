"""Purification of a uLDCT/NDCT pair in the scene, through `ipv2 purify` in a separate process."""

import json
from dataclasses import dataclass, field
from typing import Optional

from ipv2.contract import MODES, WEAK_DENOISERS
from ipv2.device_names import require_device_name
from ipv2.input_checks import require_dose, require_pair
from ipv2.protocol import PurifyCommand
from IPv2Lib.BackendLogic import BackendLogic
from IPv2Lib.NodeTransforms import requireOneParentTransform
from IPv2Lib.RegionSegmentation import RegionSegmentation
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter


@dataclass
class PurifyOutputs:
    """The backend's purification outputs as read from its folder: backend volumes, no nodes."""

    trainInput: object
    trainTarget: object
    evalLabel: object
    labels: object
    report: dict = field(default_factory=dict)


@dataclass
class PurifiedPairNodes:
    """The purified pair as new scene nodes, with the backend's report and the uLDCT they were computed from."""

    segmentationNode: object
    trainInputNode: object
    trainTargetNode: object
    evalLabelNode: object
    lowDoseNode: object = None
    report: dict = field(default_factory=dict)


class PurifyLogic(BackendLogic):
    """Checks the inputs, runs the backend, turns its outputs into new nodes.

    The input nodes are only read. Every result is a new node named after its input and
    placed beside the uLDCT in the subject hierarchy.
    """

    def checkInputs(self, lowDoseNode, normalDoseNode, settings: PurifyCommand):
        """Both volumes as backend volumes; refuses mismatched geometry before any work."""
        if lowDoseNode is None or normalDoseNode is None:
            raise ValueError("select both the uLDCT and the NDCT volume")
        if lowDoseNode is normalDoseNode:
            raise ValueError("the uLDCT and the NDCT must be two different volumes")
        if settings.mode not in MODES:
            raise ValueError(f"mode '{settings.mode}' is not one of {', '.join(MODES)}")
        if settings.weak not in WEAK_DENOISERS:
            raise ValueError(f"weak denoiser '{settings.weak}' is not one of {', '.join(WEAK_DENOISERS)}")
        require_dose(settings.dose)
        require_device_name(settings.device)
        requireOneParentTransform(
            [(f"uLDCT '{lowDoseNode.GetName()}'", lowDoseNode), (f"NDCT '{normalDoseNode.GetName()}'", normalDoseNode)]
        )
        lowDose = VolumeNodeConverter.toVolume(lowDoseNode)
        normalDose = VolumeNodeConverter.toVolume(normalDoseNode)
        require_pair(lowDose, normalDose, f"uLDCT '{lowDoseNode.GetName()}'", f"NDCT '{normalDoseNode.GetName()}'")
        return lowDose, normalDose

    def createJob(self, lowDoseNode, normalDoseNode, settings: Optional[PurifyCommand] = None, **callbacks):
        """Purifies the pair with `settings` (the panel's choices); the job's result is a
        `PurifiedPairNodes`. `callbacks`: the job's `onSucceeded`, `onProgress` and `onLog`."""
        command = settings or PurifyCommand()
        lowDose, normalDose = self.checkInputs(lowDoseNode, normalDoseNode, command)
        return self.backendJob(
            "Purification",
            command,
            {"uldct": lowDose, "ndct": normalDose},
            lambda outputs: self.importOutputs(outputs, lowDoseNode, normalDoseNode),
            inputNodes=[lowDoseNode, normalDoseNode],
            readResults=lambda workFolder: self.readOutputs(command.output_folder(workFolder), lowDose),
            **callbacks,
        )

    @staticmethod
    def readOutputs(outputFolder, lowDose):
        """The files of `ipv2 purify --out`, checked against the uLDCT's grid (`lowDose`, a backend volume).

        Reads files only, no node: `BackendJob` runs it outside Slicer's main thread.
        """
        from ipv2.io.volumes import read_labelmap, read_volume

        names = PurifyCommand.OUTPUTS
        volumes = {}
        for key, role in (("trainInput", "train_input"), ("trainTarget", "train_target"), ("evalLabel", "eval_label")):
            volume = read_volume(outputFolder / names[role])
            if not volume.same_geometry(lowDose):
                raise ValueError(f"the backend's {names[role]} is not on the uLDCT's voxel grid")
            volumes[key] = volume
        labels = read_labelmap(outputFolder / names["masks"], like=lowDose)
        reportFile = outputFolder / names["report"]
        report = json.loads(reportFile.read_text()) if reportFile.is_file() else {}
        return PurifyOutputs(labels=labels, report=report, **volumes)

    @staticmethod
    def importOutputs(outputs, lowDoseNode, normalDoseNode):
        """New nodes from what `readOutputs` read, every file already read and checked."""
        lowName, normalName = lowDoseNode.GetName(), normalDoseNode.GetName()
        return PurifiedPairNodes(
            segmentationNode=RegionSegmentation.create(outputs.labels, lowDoseNode, f"{lowName} regions"),
            trainInputNode=VolumeNodeConverter.toNewNode(
                outputs.trainInput, f"{lowName} training input", like=lowDoseNode
            ),
            trainTargetNode=VolumeNodeConverter.toNewNode(
                outputs.trainTarget, f"{normalName} training target", like=lowDoseNode
            ),
            evalLabelNode=VolumeNodeConverter.toNewNode(
                outputs.evalLabel, f"{lowName} evaluation label", like=lowDoseNode
            ),
            lowDoseNode=lowDoseNode,
            report=outputs.report,
        )

    def process(
        self, lowDoseNode, normalDoseNode, settings: Optional[PurifyCommand] = None, onProgress=None, onLog=None
    ):
        """Synchronous run for batch mode and tests; returns the `PurifiedPairNodes`."""
        return self.createJob(lowDoseNode, normalDoseNode, settings, onProgress=onProgress, onLog=onLog).run()

    @staticmethod
    def reportLines(report):
        """Short human-readable lines of the backend report: region volumes and timings."""
        lines = []
        volumes = report.get("volumes_ml") or {}
        for region, value in volumes.items():
            if isinstance(value, (int, float)):
                lines.append(f"{region}: {value:.1f} mL")
        timings = report.get("timings_s") or report.get("timings") or {}
        for stage, seconds in timings.items():
            if isinstance(seconds, (int, float)):
                lines.append(f"{stage}: {seconds:.2f} s")
        return lines
