"""What every logic that runs the backend shares: which interpreter runs it, and how its jobs are made."""

from IPv2Lib.BackendJob import BackendJob
from IPv2Lib.SceneGuard import inputsInScene


class BackendLogic:
    def __init__(self, python=None, environment=None):
        """`python`: the interpreter that runs `-m ipv2` (Slicer's PythonSlicer by default)."""
        self.python = python
        self.environment = environment

    def backendJob(self, title, prepareInputs, buildArguments, importResults, inputNodes=(), **options):
        """A `BackendJob` run by this logic's interpreter, cancelled if `inputNodes` leave the scene
        (it was closed) before it ends; `options` are the job's other arguments."""
        return BackendJob(
            title,
            prepareInputs,
            buildArguments,
            importResults,
            python=self.python,
            environment=self.environment,
            resultsWanted=inputsInScene(*inputNodes),
            **options,
        )
