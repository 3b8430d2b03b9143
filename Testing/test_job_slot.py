"""The panel's job state: a failed start leaves it clear, a finished job empties it."""

import sys
from pathlib import Path

import pytest

from IPv2Lib.BackendJob import CANCELLED, SUCCEEDED, BackendJob
from IPv2Lib.JobSlot import JobSlot
from test_process_runner import harnessJob, waitUntil


class CountingTimer:
    """Records the panel timer's start/stop calls (a QTimer in Slicer)."""

    def __init__(self):
        self.active = False
        self.starts = 0

    def start(self):
        self.active, self.starts = True, self.starts + 1

    def stop(self):
        self.active = False


def unwritableInputsJob(tmp_path):
    """A job whose inputs cannot be written: their folder's path is taken by a file."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is needed")
    workFolders = []

    def prepareInputs(folder):
        workFolders.append(folder)
        (blocker / "input.nrrd").write_text("never written")

    job = BackendJob("Denoising", prepareInputs, lambda folder: ["--version"], lambda folder: None,
                     python=sys.executable)
    return job, workFolders


def test_a_failed_start_leaves_the_slot_clear_and_the_next_start_runs(tmp_path):
    finished = []
    timer = CountingTimer()
    slot = JobSlot(onFinished=lambda job, owner: finished.append((job.state, owner)), timer=timer)
    failing, workFolders = unwritableInputsJob(tmp_path)
    with pytest.raises(NotADirectoryError):
        slot.start(failing, owner="apply")
    assert not slot.busy and slot.job is None and slot.owner is None
    assert not timer.active and timer.starts == 0
    assert not workFolders[0].exists()
    assert finished == []

    job, progress = harnessJob(tmp_path / "results", "--steps", "2")
    slot.start(job, owner="apply")
    assert slot.busy and timer.active
    waitUntil(lambda: not slot.poll())
    assert finished == [(SUCCEEDED, "apply")]
    assert not slot.busy and not timer.active


def test_only_one_job_at_a_time_and_cancel_ends_it_through_poll(tmp_path):
    finished = []
    slot = JobSlot(onFinished=lambda job, owner: finished.append(job.state))
    job, progress = harnessJob(tmp_path / "results", "--steps", "500", "--step-seconds", "0.05")
    slot.start(job, owner="train")
    second, _ = harnessJob(tmp_path / "other", "--steps", "1")
    with pytest.raises(RuntimeError, match="still running"):
        slot.start(second)
    assert second.state == "pending" and slot.job is job
    waitUntil(lambda: slot.poll() and len(progress) >= 2)
    slot.cancel()
    waitUntil(lambda: not slot.poll())
    assert finished == [CANCELLED] and not slot.busy
    assert not (tmp_path / "results").exists()


def test_the_finish_handler_may_start_the_next_job(tmp_path):
    slot = JobSlot()
    jobs = [harnessJob(tmp_path / f"results{index}", "--steps", "1")[0] for index in range(2)]
    slot.onFinished = lambda job, owner: slot.start(jobs[1]) if job is jobs[0] else None
    slot.start(jobs[0])
    waitUntil(lambda: not slot.poll())
    assert [job.state for job in jobs] == [SUCCEEDED, SUCCEEDED]


def test_closing_the_module_ends_the_run_and_removes_its_work_folder(tmp_path):
    finished = []
    slot = JobSlot(onFinished=lambda job, owner: finished.append(job.state))
    job, progress = harnessJob(tmp_path / "results", "--steps", "1000", "--step-seconds", "0.05")
    slot.start(job)
    waitUntil(lambda: slot.poll() and len(progress) >= 2)
    assert slot.cancelAndWait(timeoutSeconds=20)
    assert finished == [CANCELLED] and not slot.busy
    assert not job.workFolder.exists() and not job.process.running
