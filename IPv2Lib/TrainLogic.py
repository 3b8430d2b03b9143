"""Training a model on purified pairs, through `ipv2 train` in a separate process."""

import re
import shutil
from pathlib import Path

from ipv2.contract import DEFAULT_DEVICE, NETWORKS
from ipv2.device_names import require_device_name
from ipv2.protocol import TrainCommand
from IPv2Lib.BackendLogic import BackendLogic
from IPv2Lib.NodeTransforms import requireOneParentTransform
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

LOSS_PATTERN = re.compile(r"\bloss[=:\s]+([-+0-9.eE]+)")


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
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    number = 1
    while (path.parent / f"{stem}-{number}{suffixes}").exists():
        number += 1
    return path.parent / f"{stem}-{number}{suffixes}"


class TrainLogic(BackendLogic):
    def createTrainJob(
        self,
        outputCheckpoint,
        model,
        steps,
        pairNodes=(),
        pairFolders=(),
        device=DEFAULT_DEVICE,
        seed=0,
        overwrite=False,
        **callbacks,
    ):
        """Trains on purified pairs ((input node, target node) and/or `ipv2 purify` output folders).

        The backend writes the checkpoint in the work folder; it is moved to `outputCheckpoint`
        only when training completed, so a cancelled run leaves no file behind. An existing
        `outputCheckpoint` is refused unless `overwrite`; one that appeared during training is
        kept, and the new checkpoint takes the first free name "<stem>-1<suffix>", "-2", ...
        (the job's result is the path written). `callbacks`: the job's `onSucceeded`,
        `onProgress` and `onLog`.
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
        device = require_device_name(device)
        inputs = {}
        for index, (inputNode, targetNode) in enumerate(pairNodes):
            requireOneParentTransform(
                [
                    (f"training input '{inputNode.GetName()}'", inputNode),
                    (f"training target '{targetNode.GetName()}'", targetNode),
                ]
            )
            inputVolume, targetVolume = (
                VolumeNodeConverter.toVolume(inputNode),
                VolumeNodeConverter.toVolume(targetNode),
            )
            if not inputVolume.same_geometry(targetVolume):
                raise ValueError(
                    f"training pair '{inputNode.GetName()}' / '{targetNode.GetName()}': "
                    "input and target are not on the same voxel grid"
                )
            inputRole, targetRole = TrainCommand.scene_pair_roles(index)
            inputs[inputRole], inputs[targetRole] = inputVolume, targetVolume
        command = TrainCommand(
            model=model,
            steps=int(steps),
            seed=int(seed),
            device=device,
            scene_pairs=len(pairNodes),
            pair_folders=tuple(str(folder) for folder in pairFolders),
            checkpoint_suffix="".join(Path(outputCheckpoint).suffixes) or ".pt",
        )

        def importResults(workFolder):
            destination = Path(outputCheckpoint) if overwrite else freeFileName(Path(outputCheckpoint))
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(command.output_file(workFolder, "checkpoint")), str(destination))
            return destination

        return self.backendJob("Training", command, inputs, importResults, **callbacks)
