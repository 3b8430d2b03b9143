"""Denoising, training and evaluation from the scene, each through the backend in a separate process."""

import json
import re
import shutil
from pathlib import Path

import slicer

from ipv2.contract import DEFAULT_STRENGTH, DENOISERS, DEVICES, NETWORKS, STRENGTHS
from ipv2.io import read_volume

from IPv2Lib.BackendJob import BackendJob, writeInputLabels, writeInputVolume
from IPv2Lib.RegionSegmentation import RegionSegmentation
from IPv2Lib.SceneGuard import inputsInScene
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

LOSS_PATTERN = re.compile(r"\bloss[=:\s]+([-+0-9.eE]+)")
FIDELITY_METRICS = ("rmse_hu", "mae_hu", "psnr_db", "ssim")
MISSING_FIGURE = "-"


def lossOf(progressRecord=None, logLine=None):
    """The training loss in a progress record or a log line, if there is one."""
    if progressRecord is not None and isinstance(progressRecord.get("loss"), (int, float)):
        return float(progressRecord["loss"])
    if logLine:
        match = LOSS_PATTERN.search(logLine)
        if match:
            try:
                return float(match.group(1))
            except ValueError:
                return None
    return None


def freeFileName(path):
    """`path` when no file has that name, else the first free "<stem>-<n><suffixes>" beside it."""
    path = Path(path)
    if not path.exists():
        return path
    suffixes = "".join(path.suffixes)
    stem = path.name[:len(path.name) - len(suffixes)] if suffixes else path.name
    number = 1
    while (path.parent / f"{stem}-{number}{suffixes}").exists():
        number += 1
    return path.parent / f"{stem}-{number}{suffixes}"


class DenoiseLogic:
    def __init__(self, python=None, environment=None):
        self.python = python
        self.environment = environment

    def _job(self, title, prepare, arguments, importResults, inputNodes=(), readResults=None, **callbacks):
        """A backend job that is cancelled if `inputNodes` leave the scene (it was closed) before it ends."""
        return BackendJob(title, prepare, arguments, importResults, readResults=readResults, python=self.python,
                          environment=self.environment, resultsWanted=inputsInScene(*inputNodes), **callbacks)

    # Denoise ---------------------------------------------------------------------------

    def createDenoiseJob(self, inputNode, model, device="auto", strength=DEFAULT_STRENGTH, **callbacks):
        """Denoises `inputNode` into a new node.

        `model`: a network with bundled weights or a classical method (`ipv2.contract.DENOISERS`),
        else the path of a checkpoint file written by `ipv2 train`. `strength`: one of
        `STRENGTHS`, passed to `ipv2 denoise --strength`.
        """
        if inputNode is None:
            raise ValueError("select the volume to denoise")
        if not model:
            raise ValueError("choose a bundled model, a classical method or a checkpoint file")
        if device not in DEVICES:
            raise ValueError(f"device '{device}' is not one of {', '.join(DEVICES)}")
        if strength not in STRENGTHS:
            raise ValueError(f"strength '{strength}' is not one of {', '.join(STRENGTHS)}")
        if model not in DENOISERS and not Path(model).is_file():
            raise ValueError(f"'{model}' is neither a bundled model or method ({', '.join(DENOISERS)}) "
                             "nor an existing checkpoint file")
        volume = VolumeNodeConverter.toVolume(inputNode)

        def readResults(workFolder):  # files only: runs outside the main thread
            denoised = read_volume(workFolder / "denoised.nrrd")
            if not denoised.same_geometry(volume):
                raise ValueError("the denoised volume is not on the input's voxel grid")
            return denoised

        # A raw output: the reader takes a quarter of the time it takes on gzip.
        return self._job(
            "Denoising", lambda folder: writeInputVolume(volume, folder / "input.nrrd"),
            lambda folder: ["denoise", "--model", model, "--in", folder / "input.nrrd", "--out",
                            folder / "denoised.nrrd", "--device", device, "--strength", strength,
                            "--uncompressed", "--progress", "json"],
            lambda denoised: VolumeNodeConverter.toNewNode(denoised, f"{inputNode.GetName()} denoised", like=inputNode),
            inputNodes=[inputNode], readResults=readResults, **callbacks)

    # Train -----------------------------------------------------------------------------

    def createTrainJob(self, outputCheckpoint, model, steps, pairNodes=(), pairFolders=(), device="auto",
                       seed=0, overwrite=False, **callbacks):
        """Trains on purified pairs ((input node, target node) and/or `ipv2 purify` output folders).

        The backend writes the checkpoint in the work folder; it is moved to `outputCheckpoint`
        only when training completed, so a cancelled run leaves no file behind. An existing
        `outputCheckpoint` is refused unless `overwrite`; one that appeared during training is
        kept, and the new checkpoint takes the first free name "<stem>-1<suffix>", "-2", ...
        (the job's result is the path written).
        """
        if not outputCheckpoint:
            raise ValueError("choose where to save the trained checkpoint")
        if Path(outputCheckpoint).is_dir():
            raise ValueError(f"checkpoint {outputCheckpoint} is a folder; choose a file name")
        if Path(outputCheckpoint).exists() and not overwrite:
            raise ValueError(f"checkpoint {outputCheckpoint} already exists; choose another name or allow replacing it")
        pairNodes = [(inputNode, targetNode) for inputNode, targetNode in pairNodes if inputNode and targetNode]
        pairFolders = [Path(folder) for folder in pairFolders if folder]
        if not pairNodes and not pairFolders:
            raise ValueError("select at least one purified pair (volumes in the scene or a folder)")
        for folder in pairFolders:
            if not folder.is_dir():
                raise ValueError(f"training pairs {folder}: no such folder")
        if model not in NETWORKS:
            raise ValueError(f"model '{model}' cannot be trained; choose one of {', '.join(NETWORKS)}")
        if int(steps) < 1:
            raise ValueError(f"training steps {steps} must be at least 1")
        pairs = []
        for inputNode, targetNode in pairNodes:
            inputVolume, targetVolume = VolumeNodeConverter.toVolume(inputNode), VolumeNodeConverter.toVolume(targetNode)
            if not inputVolume.same_geometry(targetVolume):
                raise ValueError(f"training pair '{inputNode.GetName()}' / '{targetNode.GetName()}': "
                                 "input and target are not on the same voxel grid")
            pairs.append((inputVolume, targetVolume))
        extension = "".join(Path(outputCheckpoint).suffixes) or ".pt"

        def prepare(workFolder):
            for index, (inputVolume, targetVolume) in enumerate(pairs):
                writeInputVolume(inputVolume, workFolder / "pairs" / f"scene{index}" / "train_input.nrrd")
                writeInputVolume(targetVolume, workFolder / "pairs" / f"scene{index}" / "train_target.nrrd")

        def arguments(workFolder):
            folders = [workFolder / "pairs" / f"scene{index}" for index in range(len(pairs))] + pairFolders
            return ["train", "--data", *folders, "--model", model, "--steps", str(int(steps)), "--seed", str(int(seed)),
                    "--device", device, "--out", workFolder / f"checkpoint{extension}", "--progress", "json"]

        def importResults(workFolder):
            destination = Path(outputCheckpoint) if overwrite else freeFileName(Path(outputCheckpoint))
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(workFolder / f"checkpoint{extension}"), str(destination))
            return destination

        return self._job("Training", prepare, arguments, importResults, **callbacks)

    # Evaluate --------------------------------------------------------------------------

    def createEvaluateJob(self, predictionNode, labelNode, segmentationNode, truthNode=None, **callbacks):
        """Region figures of a prediction against a label; returns (table node, report, figure PNG bytes)."""
        if predictionNode is None or labelNode is None or segmentationNode is None:
            raise ValueError("select the prediction, the evaluation label and the region segmentation")
        prediction = VolumeNodeConverter.toVolume(predictionNode)
        label = VolumeNodeConverter.toVolume(labelNode)
        truth = VolumeNodeConverter.toVolume(truthNode) if truthNode is not None else None
        labels = RegionSegmentation.toLabels(segmentationNode, predictionNode)

        def prepare(workFolder):
            writeInputVolume(prediction, workFolder / "prediction.nrrd")
            writeInputVolume(label, workFolder / "label.nrrd")
            writeInputLabels(labels, prediction, workFolder / "masks.nrrd")
            if truth is not None:
                writeInputVolume(truth, workFolder / "truth.nrrd")

        def arguments(workFolder):
            command = ["evaluate", "--pred", workFolder / "prediction.nrrd", "--label", workFolder / "label.nrrd",
                       "--masks", workFolder / "masks.nrrd", "--out", workFolder / "report.json",
                       "--figure", workFolder / "figure.png", "--progress", "json"]
            if truth is not None:
                command += ["--truth", workFolder / "truth.nrrd"]
            return command

        def importResults(workFolder):
            report = json.loads((workFolder / "report.json").read_text())
            figurePath = workFolder / "figure.png"
            figure = figurePath.read_bytes() if figurePath.is_file() else None
            table = self.reportTable(report, f"{predictionNode.GetName()} evaluation")
            return table, report, figure

        return self._job("Evaluation", prepare, arguments, importResults,
                         inputNodes=[predictionNode, labelNode, segmentationNode, truthNode], **callbacks)

    @staticmethod
    def reportRows(report):
        """(comparison, region, metric values...) rows of the report's fidelity figures."""
        rows = []
        for comparison, regions in (report.get("fidelity") or {}).items():
            for region, figures in regions.items():
                rows.append([comparison, region] + [figures.get(metric) for metric in FIDELITY_METRICS])
        return rows

    @staticmethod
    def reportTable(report, name):
        """A new table node with one row per comparison and region; a figure the report lacks shows as "-".

        The columns hold text: a number column would show a missing figure as 0.
        """
        table = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLTableNode", slicer.mrmlScene.GenerateUniqueName(name))
        for column in ("comparison", "region", *FIDELITY_METRICS):
            table.AddColumn().SetName(column)
        for row in DenoiseLogic.reportRows(report):
            index = table.AddEmptyRow()
            table.SetCellText(index, 0, row[0])
            table.SetCellText(index, 1, row[1])
            for offset, value in enumerate(row[2:], start=2):
                table.SetCellText(index, offset, MISSING_FIGURE if not isinstance(value, (int, float)) else f"{value:.6g}")
        return table
