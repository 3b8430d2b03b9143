"""Shared by the Slicer-layer tests: a backend job running the slow writer, a polling wait, and
purification outputs written by the backend's own writers."""

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ipv2.contract import EVAL_LABEL_FILE, MASKS_FILE, REPORT_FILE, TRAIN_INPUT_FILE, TRAIN_TARGET_FILE
from ipv2.io import write_labelmap, write_volume
from IPv2Lib.BackendJob import BackendJob
from IPv2Lib.RegionSegmentation import LABEL_BACKGROUND, LABEL_LUNG

TESTING = Path(__file__).resolve().parent
HARNESS = "slow_writer_command"


def harnessEnvironment():
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTING), environment.get("PYTHONPATH")]))
    return environment


@dataclass(frozen=True)
class SlowWriterCommand:
    """The slow writer's command line, given as an `ipv2.protocol` command gives the backend's."""

    extra: tuple = ()
    launcher: tuple = ()  # the options of launcher_like_wrapper, to run the slow writer as its child

    def to_argv(self, folder):
        launcher = [*self.launcher, HARNESS] if self.launcher else []
        return [*launcher, "--out", folder / "out", "--progress", "json", *self.extra]


def harnessJob(
    destination,
    *extra,
    importResults=None,
    readResults=None,
    launcher=(),
    workFolder=None,
    onProgress=None,
    onLog=None,
    onSucceeded=None,
    **options,
):
    """A job running the slow writer into its work folder, then moving the result to `destination`.

    `launcher`: the options of launcher_like_wrapper, to run the slow writer as its child.
    The progress records are collected in the list returned, and passed on to `onProgress`.
    """
    progress = []

    def collect(record):
        progress.append(record)
        if onProgress is not None:
            onProgress(record)

    def importInto(workFolder):
        produced = sorted(path.name for path in (workFolder / "out").iterdir())
        destination.mkdir()
        (destination / "imported.txt").write_text(",".join(produced))
        return produced

    job = BackendJob(
        "slow writer",
        SlowWriterCommand(extra, tuple(launcher)),
        prepareInputs=lambda folder: (folder / "input.txt").write_text("input"),
        importResults=importResults or importInto,
        readResults=readResults,
        onProgress=collect,
        onLog=onLog,
        onSucceeded=onSucceeded,
        python=sys.executable,
        environment=harnessEnvironment(),
        workFolder=workFolder,
        processOptions={"module": "launcher_like_wrapper" if launcher else HARNESS, **options},
    )
    return job, progress


def waitUntil(condition, timeoutSeconds=30.0, job=None):
    deadline = time.monotonic() + timeoutSeconds
    while not condition():
        if job is not None:
            job.poll()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def writeBackendOutputs(folder, lowDose):
    """Files in the layout of `ipv2 purify --out`, written by the backend's own writers."""
    labels = np.zeros(lowDose.shape, dtype=np.uint8)
    labels[lowDose.array < -950] = LABEL_BACKGROUND
    labels[(lowDose.array < -500) & (lowDose.array >= -950)] = LABEL_LUNG
    write_labelmap(labels, lowDose, folder / MASKS_FILE)
    write_volume(lowDose.with_array(lowDose.array + 1), folder / TRAIN_INPUT_FILE)
    write_volume(lowDose.with_array(lowDose.array + 2), folder / TRAIN_TARGET_FILE)
    write_volume(lowDose.with_array(lowDose.array + 3), folder / EVAL_LABEL_FILE)
    (folder / REPORT_FILE).write_text(json.dumps({"volumes_ml": {"lung": 12.5}, "timings_s": {"masks": 0.25}}))
    return labels
