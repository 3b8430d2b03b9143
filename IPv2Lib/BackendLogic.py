"""The one way the logics make their backend jobs: a command of `ipv2.protocol`, its inputs
written where that command reads them, run by the logic's interpreter, and cancelled once its
input nodes leave the scene."""

import numpy as np

from IPv2Lib.BackendJob import BackendJob, writeInputVolume
from IPv2Lib.SceneGuard import inputsInScene


class BackendLogic:
    def __init__(self, python=None, environment=None):
        """`python`: the interpreter that runs `-m ipv2` (Slicer's PythonSlicer by default)."""
        self.python = python
        self.environment = environment

    def backendJob(self, title, command, inputs, importResults, inputNodes=(), **options):
        """A `BackendJob` that runs `command`, an `ipv2.protocol` command.

        inputs: {role: backend volume} for every input the command reads (`command.input_names()`);
        each is written uncompressed at the command's path for it, a labelmap role
        (`command.LABEL_INPUTS`) as uint8, the others as float32. The job is cancelled if
        `inputNodes` leave the scene (it was closed) before it ends; `options` are the job's
        other arguments (`readResults`, `onSucceeded`, `onProgress`, `onLog`).
        """
        expected = set(command.input_names())
        if set(inputs) != expected:
            raise ValueError(f"ipv2 {command.COMMAND} reads {sorted(expected)}; the job was given {sorted(inputs)}")

        def writeInputs(workFolder):
            for role, path in command.input_files(workFolder).items():
                dtype = np.uint8 if role in command.LABEL_INPUTS else np.float32
                writeInputVolume(inputs[role], path, dtype=dtype)

        return BackendJob(
            title,
            command,
            writeInputs,
            importResults,
            python=self.python,
            environment=self.environment,
            resultsWanted=inputsInScene(*inputNodes),
            **options,
        )
