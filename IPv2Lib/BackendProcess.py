"""The `ipv2` backend run in a separate process, its progress read from its output.

Qt-free on purpose: the widget polls `poll()` from a QTimer so that Slicer's event loop
keeps running, batch mode calls `wait()`, and pytest drives it directly. A reader thread
moves output lines into a queue; callbacks run only in the thread that polls, and `poll()`
never blocks.

The process started is usually Slicer's launcher, whose child runs the backend (see
`ProcessTree`). The run has ended only when the launcher has exited and its output is
closed, which happens once every process holding it (the launcher's child) has ended too;
after a cancel, also only once no process of its tree is alive. So the work folder is never
removed while the backend may still write into it.
"""

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections import deque

from ipv2.progress import parse_progress_line
from IPv2Lib.ProcessTree import ProcessTree

# The backend turns SIGTERM into a clean cancel (exit 130, nothing written); a tree that has
# not ended after this many seconds is killed, every process of it.
CANCEL_GRACE_SECONDS = 5.0


def slicerPython():
    """Slicer's bare interpreter (PythonSlicer) when there is one, else this interpreter."""
    executableFolder = os.path.dirname(sys.executable)
    for name in ("PythonSlicer", "PythonSlicer.exe"):
        candidate = os.path.join(executableFolder, name)
        if os.path.isfile(candidate):
            return candidate
    return shutil.which("PythonSlicer") or sys.executable


class BackendProcess:
    """One run of `python -m ipv2 <command> ... --progress json`."""

    def __init__(
        self,
        arguments,
        onProgress=None,
        onLog=None,
        python=None,
        environment=None,
        workingFolder=None,
        module="ipv2",
        cancelGraceSeconds=CANCEL_GRACE_SECONDS,
    ):
        self.arguments = [str(argument) for argument in arguments]
        self.module = module
        self.cancelGraceSeconds = cancelGraceSeconds
        self.onProgress = onProgress
        self.onLog = onLog
        self.python = python or slicerPython()
        self.environment = environment
        self.workingFolder = workingFolder
        self.outputTail = deque(maxlen=200)
        self.cancelRequested = False
        self._process = None
        self._lines = queue.Queue()
        self._reader = None
        self._killDeadline = None
        self._tree = None

    @property
    def commandLine(self):
        return [self.python, "-u", "-m", self.module, *self.arguments]

    def start(self):
        if self._process is not None:
            raise RuntimeError("the backend process was already started")
        options = {}
        if os.name == "nt":
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | getattr(subprocess, "CREATE_NO_WINDOW", 0)
        else:
            options["start_new_session"] = True  # its own session and process group, which its children inherit
        environment = dict(os.environ if self.environment is None else self.environment)
        environment["PYTHONUNBUFFERED"] = "1"
        # The output is decoded as UTF-8 below; on Windows a child would otherwise write in the
        # ANSI code page (a path or a name with accents would come back garbled).
        environment["PYTHONUTF8"] = "1"
        environment["PYTHONIOENCODING"] = "utf-8"
        self._process = subprocess.Popen(
            self.commandLine,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            cwd=self.workingFolder,
            env=environment,
            **options,
        )
        self._tree = ProcessTree(self._process.pid)
        self._reader = threading.Thread(target=self._readOutput, name="ipv2-backend-output", daemon=True)
        self._reader.start()
        return self

    def _readOutput(self):
        for line in self._process.stdout:
            self._lines.put(line.rstrip("\r\n"))
        self._process.stdout.close()

    @property
    def running(self):
        return self._process is not None and self._process.poll() is None

    def poll(self):
        """Handles the output read so far; returns the exit code once the process ended, else None."""
        if self._process is None:
            raise RuntimeError("the backend process was not started")
        self._drainOutput()
        if self._killDeadline is not None and time.monotonic() > self._killDeadline:
            self._tree.kill()
            if os.name == "nt":
                self._killDeadline = None  # taskkill walks the whole tree once
        returnCode = self._process.poll()
        if returnCode is None:
            return None
        if self._reader.is_alive():
            return None  # a process of the tree (the launcher's child) still holds the output open
        if self.cancelRequested and self._tree.alive():
            return None  # one left the output but still runs: it is being ended
        self._reader.join()
        self._drainOutput()
        return returnCode

    @property
    def pid(self):
        return None if self._process is None else self._process.pid

    def wait(self, pollSeconds=0.1, timeoutSeconds=None):
        """Runs to the end in the calling thread (batch mode); returns the exit code."""
        started = time.monotonic()
        while True:
            returnCode = self.poll()
            if returnCode is not None:
                return returnCode
            if timeoutSeconds is not None and time.monotonic() - started > timeoutSeconds:
                self.cancel()
                timeoutSeconds = None
            time.sleep(pollSeconds)

    def cancel(self):
        """Asks the backend's whole process tree to stop; what has not stopped in time is killed."""
        if self._process is None or self.cancelRequested:
            self.cancelRequested = True
            return
        self.cancelRequested = True
        self._tree.terminate()
        self._killDeadline = time.monotonic() + self.cancelGraceSeconds

    def _drainOutput(self):
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            record = parse_progress_line(line)
            if record is not None:
                if self.onProgress is not None:
                    self.onProgress(record)
                continue
            self.outputTail.append(line)
            if self.onLog is not None:
                self.onLog(line)

    def errorMessage(self):
        """The backend's own error message (its last `error:` line), else the last output lines."""
        lines = [line for line in self.outputTail if line.strip()]
        for line in reversed(lines):
            if "error:" in line:
                return line.split("error:", 1)[1].strip()
        return "\n".join(lines[-5:]) or "the backend stopped without a message"
