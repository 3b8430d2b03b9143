"""A backend run from start to imported results, or to nothing at all.

The job owns a temporary work folder: inputs are written there, the backend writes its
outputs there, and once the backend exited successfully its outputs are taken in two steps:

- `readResults(workFolder)` reads the files (volumes into arrays, a report), in a thread of
  its own, so that Slicer's main thread, which polls, keeps drawing and handling clicks
  while hundreds of megabytes are read (0.35 s for a raw 512 x 512 x 300 float32 volume,
  1.5 s gzip; benchmarks/bench_result_read.py). It must not touch the scene.
- `importResults(read)` turns what was read into scene nodes, in the polling thread. By
  default nothing is read ahead and `importResults` receives the work folder.

Cancel or failure removes the folder, so the scene and the disk are left as they were; the
folder is never removed while the reader may still read it.

`resultsWanted()`, when given, is asked at every poll: once it says False (the scene that
held the inputs was closed), the run is cancelled and nothing is imported, even when the
backend had already finished.

What runs is a command of `ipv2.protocol` (anything with `to_argv(workFolder)`): its command
line is the backend's own, never typed here. Whoever polls the job to its end calls its
`onSucceeded(job)` once it succeeded (the panel's `JobPanel`, after letting go of it); a
batch run takes `run()`'s result instead.
"""

import shutil
import tempfile
import threading
import time
from enum import Enum
from pathlib import Path

import numpy as np

from ipv2.protocol import ExitCode
from IPv2Lib.BackendProcess import BackendProcess


class JobState(str, Enum):
    """Where a job is; a string too, so that it reads (and compares) as its value."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self):
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


def writeInputVolume(volume, path, dtype=np.float32):
    """Writes a job input uncompressed: inputs are written on Slicer's main thread, where gzip
    costs about 12 times as long (2.2 s against 0.18 s for 512 x 512 x 64 voxels). SimpleITK is
    imported here, when a job starts, not when the modules load."""
    from ipv2.io.volumes import write_volume

    return write_volume(volume, path, dtype=dtype, compress=False)


def defaultWorkFolderParent():
    """Slicer's temporary folder (its IPv2 subfolder) inside Slicer; None elsewhere (the system's)."""
    try:
        import slicer

        return slicer.util.tempDirectory("IPv2", includeDateTime=False)
    except Exception:  # no Slicer application (PythonSlicer, pytest): no qt, no slicer.app
        return None


class BackendJobError(RuntimeError):
    """The backend failed; the message is the backend's own."""


class BackendJobCancelled(BackendJobError):
    """The user cancelled the run; nothing was imported or written."""


class BackendJob:
    def __init__(
        self,
        title,
        command,
        prepareInputs,
        importResults,
        onProgress=None,
        onLog=None,
        onSucceeded=None,
        python=None,
        environment=None,
        workFolder=None,
        processOptions=None,
        resultsWanted=None,
        readResults=None,
    ):
        """
        title: what the user reads ("Denoising running...").
        command: what the backend runs, `command.to_argv(workFolder)` its command line after
        `python -m ipv2` (an `ipv2.protocol` command).
        prepareInputs(workFolder): writes the input files (runs in `start`, before the process).
        readResults(workFolder) -> read: reads the outputs, in a worker thread, on success only.
        importResults(read) -> result: turns them into nodes, in the polling thread; receives
        the work folder when there is no `readResults`.
        onSucceeded(job): shows the results (`job.result`); called by whoever polled the job to
        its end, once it succeeded.
        """
        self.title = title
        self.command = command
        self.prepareInputs = prepareInputs
        self.readResults = readResults
        self.importResults = importResults
        self.onProgress = onProgress
        self.onLog = onLog
        self.onSucceeded = onSucceeded
        self.resultsWanted = resultsWanted
        self.python = python
        self.environment = environment
        self._workFolderParent = workFolder
        self.processOptions = dict(processOptions or {})
        self.workFolder = None
        self.process = None
        self.state = JobState.PENDING
        self.result = None
        self.error = None
        self.cancelRequested = False
        self._reader = None
        self._read = None
        self._readError = None

    @property
    def finished(self):
        return self.state.finished

    def start(self):
        if self.state != JobState.PENDING:
            raise RuntimeError(f"{self.title} was already started")
        parent = self._workFolderParent if self._workFolderParent is not None else defaultWorkFolderParent()
        self.workFolder = Path(tempfile.mkdtemp(prefix="IPv2-", dir=parent))
        try:
            self.prepareInputs(self.workFolder)
            self.process = BackendProcess(
                self.command.to_argv(self.workFolder),
                onProgress=self.onProgress,
                onLog=self.onLog,
                python=self.python,
                environment=self.environment,
                workingFolder=str(self.workFolder),
                **self.processOptions,
            )
            self.process.start()
        except BaseException:
            self._removeWorkFolder()
            raise
        self.state = JobState.RUNNING
        return self

    def poll(self):
        """Advances the job without blocking; returns True once it finished (see `state`, `result`, `error`)."""
        if self.state != JobState.RUNNING:
            return self.finished
        if self.resultsWanted is not None and not self.cancelRequested and not self.resultsWanted():
            self.cancel()
        if self._reader is None:
            returnCode = self.process.poll()
            if returnCode is None:
                return False
            if not self.cancelRequested and returnCode == ExitCode.OK and self.readResults is not None:
                self._startReading()
                return False
            return self._end(returnCode)
        if self._reader.is_alive():
            return False
        self._reader.join()
        return self._end(0)

    def _startReading(self):
        if self.onProgress is not None:
            self.onProgress({"stage": "reading results", "done": 0, "total": 1})
        self._reader = threading.Thread(target=self._readInBackground, name="ipv2-read-results", daemon=True)
        self._reader.start()

    def _readInBackground(self):
        try:
            self._read = self.readResults(self.workFolder)
        except Exception as error:  # reported from the polling thread
            self._readError = error

    def _end(self, returnCode):
        try:
            if self.cancelRequested or returnCode == ExitCode.CANCELLED:
                self.state = JobState.CANCELLED
            elif returnCode != ExitCode.OK:
                self.state = JobState.FAILED
                self.error = BackendJobError(f"{self.title} failed: {self.process.errorMessage()}")
            elif self._readError is not None:
                self.state, self.error = JobState.FAILED, self._readError
            else:
                try:
                    self.result = self.importResults(self.workFolder if self.readResults is None else self._read)
                    self.state = JobState.SUCCEEDED
                except Exception as error:
                    self.state = JobState.FAILED
                    self.error = error
        finally:
            self._read = None
            self._removeWorkFolder()
        return True

    def cancel(self):
        """Stops the run; once its results are being read, they are dropped instead of imported."""
        if self.state == JobState.PENDING:
            self.state = JobState.CANCELLED
        elif self.state == JobState.RUNNING and not self.cancelRequested:
            self.cancelRequested = True
            if self._reader is None:
                self.process.cancel()

    def wait(self, timeoutSeconds=None, pollSeconds=0.1):
        """Polls in the calling thread until the job finished; False if `timeoutSeconds` passed first."""
        deadline = None if timeoutSeconds is None else time.monotonic() + timeoutSeconds
        while not self.poll():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(pollSeconds)
        return True

    def run(self, pollSeconds=0.1):
        """Starts and waits (batch mode); returns the result or raises the job's error."""
        if self.state == JobState.PENDING:
            self.start()
        self.wait(pollSeconds=pollSeconds)
        if self.state == JobState.FAILED:
            raise self.error
        if self.state == JobState.CANCELLED:
            raise BackendJobCancelled(f"{self.title} was cancelled; nothing was changed")
        return self.result

    def _removeWorkFolder(self):
        if self.workFolder is not None:
            shutil.rmtree(self.workFolder, ignore_errors=True)
