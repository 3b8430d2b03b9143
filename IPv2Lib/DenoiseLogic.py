"""Denoising a volume of the scene, through `ipv2 denoise` in a separate process."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from ipv2.contract import DEFAULT_DEVICE, DEFAULT_STRENGTH, DENOISERS, STRENGTHS
from ipv2.device_names import require_device_name
from ipv2.protocol import DenoiseCommand
from IPv2Lib.BackendLogic import BackendLogic
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

REMOVED_WINDOW_NOISE_MULTIPLE = 8.0  # the removed image's window: +-4 noise standard deviations
REMOVED_WINDOW_HU = 200.0  # where the account states no noise level


@dataclass
class DenoiseOutputs:
    """What the backend wrote, as read from its work folder: backend volumes, no nodes."""

    denoised: object
    removed: object = None
    account: dict = field(default_factory=dict)
    regions: object = None


@dataclass
class DenoiseResult:
    """The denoised node, and what the compare view shows of the run once asked."""

    inputNode: object
    denoisedNode: object
    removed: object = None  # the removed image as a backend volume, made a node only when compared
    account: dict = field(default_factory=dict)
    removedNode: object = None
    regions: object = None  # the region labels the backend used, made a segmentation only when compared
    regionsNode: object = None


class DenoiseLogic(BackendLogic):
    def createDenoiseJob(
        self,
        inputNode,
        model,
        device=DEFAULT_DEVICE,
        strength=DEFAULT_STRENGTH,
        lungStrength=None,
        bodyStrength=None,
        **callbacks,
    ):
        """Denoises `inputNode` into a new node; the job's result is a `DenoiseResult`.

        `model`: a network with bundled weights or a classical method (`ipv2.contract.DENOISERS`),
        else the path of a checkpoint file written by `ipv2 train`. `strength`: one of
        `STRENGTHS`; with `lungStrength` and `bodyStrength` both given, those instead. The
        classical methods take no strength (they measure the noise). The backend also writes
        the removed image and its account, and with region-aware strengths the region masks
        those used (shown by Compare); `ipv2.protocol.DenoiseCommand` says how.
        `callbacks`: the job's `onSucceeded`, `onProgress` and `onLog`.
        """
        if inputNode is None:
            raise ValueError("select the volume to denoise")
        if not model:
            raise ValueError("choose a bundled model, a classical method or a checkpoint file")
        device = require_device_name(device)
        if (lungStrength is None) != (bodyStrength is None):
            raise ValueError("give both the lung and the body strength, or neither")
        for name, value in (("strength", strength), ("lung strength", lungStrength), ("body strength", bodyStrength)):
            if value is not None and value not in STRENGTHS:
                raise ValueError(f"{name} '{value}' is not one of {', '.join(STRENGTHS)}")
        if model not in DENOISERS and not Path(model).is_file():
            raise ValueError(
                f"'{model}' is neither a bundled model or method ({', '.join(DENOISERS)}) "
                "nor an existing checkpoint file"
            )
        command = DenoiseCommand(
            model=str(model), device=device, strength=strength, strength_lung=lungStrength, strength_body=bodyStrength
        )
        volume = VolumeNodeConverter.toVolume(inputNode)
        return self.backendJob(
            "Denoising",
            command,
            {"input": volume},
            lambda outputs: self.importOutputs(outputs, inputNode),
            inputNodes=[inputNode],
            readResults=lambda workFolder: self.readOutputs(workFolder, volume),  # files only: outside the main thread
            **callbacks,
        )

    @staticmethod
    def readOutputs(workFolder, volume):
        """The denoised and removed volumes, checked against the input's grid, and the account.

        Reads files only, no node: `BackendJob` runs it outside Slicer's main thread.
        """
        from ipv2.io.volumes import read_volume

        files = DenoiseCommand().output_files(workFolder)
        outputs = DenoiseOutputs(denoised=read_volume(files["denoised"]))
        if files["removed"].is_file():
            outputs.removed = read_volume(files["removed"])
        if files["regions"].is_file():  # written for region-aware strengths only
            outputs.regions = read_volume(files["regions"])
        for name, read in (("denoised", outputs.denoised), ("removed", outputs.removed), ("regions", outputs.regions)):
            if read is not None and not read.same_geometry(volume):
                raise ValueError(f"the {name} volume is not on the input's voxel grid")
        if files["account"].is_file():
            outputs.account = json.loads(files["account"].read_text(encoding="utf-8"))
        return outputs

    @staticmethod
    def importOutputs(outputs, inputNode):
        denoisedNode = VolumeNodeConverter.toNewNode(
            outputs.denoised, f"{inputNode.GetName()} denoised", like=inputNode
        )
        return DenoiseResult(
            inputNode=inputNode,
            denoisedNode=denoisedNode,
            removed=outputs.removed,
            account=outputs.account,
            regions=outputs.regions,
        )

    @staticmethod
    def regionsNode(result):
        """The regions the run's strengths used, as a segmentation beside the input (made once);
        None for a run with one strength."""
        from IPv2Lib.RegionSegmentation import RegionSegmentation

        if result.regions is None:
            return None
        if result.regionsNode is not None and result.regionsNode.GetScene() is not None:
            return result.regionsNode
        result.regionsNode = RegionSegmentation.create(
            result.regions.array, result.inputNode, f"{result.inputNode.GetName()} regions (denoising)"
        )
        return result.regionsNode

    @staticmethod
    def removedNode(result):
        """The removed image of `result` as a node beside the input (made once), shown centred on zero."""
        if result.removed is None:
            raise ValueError("this run has no removed image")
        if result.removedNode is not None and result.removedNode.GetScene() is not None:
            return result.removedNode
        node = VolumeNodeConverter.toNewNode(
            result.removed, f"{result.inputNode.GetName()} removed", like=result.inputNode
        )
        noise = result.account.get("measured_noise_hu")
        window = (
            REMOVED_WINDOW_NOISE_MULTIPLE * noise
            if isinstance(noise, (int, float)) and noise > 0
            else REMOVED_WINDOW_HU
        )
        display = node.GetDisplayNode()
        display.AutoWindowLevelOff()
        display.SetWindowLevel(window, 0.0)
        result.removedNode = node
        return node
