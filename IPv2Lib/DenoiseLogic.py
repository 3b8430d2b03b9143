"""Denoising a volume of the scene, through `ipv2 denoise` in a separate process."""

from pathlib import Path

from ipv2.contract import DEFAULT_STRENGTH, DENOISERS, DEVICES, STRENGTHS

from IPv2Lib.BackendJob import writeInputVolume
from IPv2Lib.BackendLogic import BackendLogic
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter


class DenoiseLogic(BackendLogic):
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
            from ipv2.io.volumes import read_volume

            denoised = read_volume(workFolder / "denoised.nrrd")
            if not denoised.same_geometry(volume):
                raise ValueError("the denoised volume is not on the input's voxel grid")
            return denoised

        # A raw output: the reader takes a quarter of the time it takes on gzip.
        return self.backendJob(
            "Denoising", lambda folder: writeInputVolume(volume, folder / "input.nrrd"),
            lambda folder: ["denoise", "--model", model, "--in", folder / "input.nrrd", "--out",
                            folder / "denoised.nrrd", "--device", device, "--strength", strength,
                            "--uncompressed", "--progress", "json"],
            lambda denoised: VolumeNodeConverter.toNewNode(denoised, f"{inputNode.GetName()} denoised", like=inputNode),
            inputNodes=[inputNode], readResults=readResults, **callbacks)
