"""The background runner: progress read from a real backend process, cancel, failure."""

import os
import sys
import threading
import time

import pytest
from harness import harnessJob, waitUntil

from IPv2Lib.BackendJob import BackendJobCancelled, BackendJobError, JobState
from IPv2Lib.BackendProcess import BackendProcess


def test_progress_lines_reach_the_callback_and_results_are_imported(tmp_path):
    destination = tmp_path / "results"
    job, progress = harnessJob(destination, "--steps", "4")
    result = job.run(pollSeconds=0.02)
    assert job.state == JobState.SUCCEEDED
    assert [record["done"] for record in progress] == [0, 1, 2, 3, 4]
    assert all(record["stage"] == "writing" and record["total"] == 4 for record in progress)
    assert result == ["part0.txt", "part1.txt", "part2.txt", "part3.txt", "result.txt"]
    assert (destination / "imported.txt").is_file()
    assert not job.workFolder.exists()


def test_cancel_stops_the_process_and_nothing_is_written(tmp_path):
    destination = tmp_path / "results"
    imported = []
    job, progress = harnessJob(
        destination, "--steps", "200", "--step-seconds", "0.05", importResults=lambda folder: imported.append(folder)
    )
    job.start()
    workFolder = job.workFolder
    waitUntil(lambda: len(progress) >= 3, job=job)
    assert (workFolder / "input.txt").is_file()
    started = time.monotonic()
    job.cancel()
    waitUntil(job.poll)
    assert job.state == JobState.CANCELLED
    assert time.monotonic() - started < 4.0, "the backend should stop at its next step, not at the kill deadline"
    assert job.process.poll() == 130
    assert progress[-1]["done"] < 200
    assert imported == []
    assert not destination.exists()
    assert not workFolder.exists()
    with pytest.raises(BackendJobCancelled):
        job.run()


@pytest.mark.skipif(os.name == "nt", reason="process groups are POSIX")
def test_a_process_that_ignores_cancel_is_killed_with_its_children(tmp_path):
    destination = tmp_path / "results"
    pidFile = tmp_path / "child.pid"
    job, progress = harnessJob(
        destination, "--steps", "1000", "--ignore-terminate", "--child-pid-file", pidFile, cancelGraceSeconds=0.5
    )
    job.start()
    waitUntil(lambda: len(progress) >= 2, job=job)
    childPid = int(pidFile.read_text())
    job.cancel()
    waitUntil(job.poll, timeoutSeconds=20)
    assert job.state == JobState.CANCELLED
    assert job.process.poll() < 0  # killed by a signal, not exited
    waitUntil(lambda: not processAlive(childPid), timeoutSeconds=10)
    assert not destination.exists()


def processAlive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child stays a zombie until its parent (gone) is reaped by init; treat as dead.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_backend_error_message_is_reported_and_nothing_imported(tmp_path):
    destination = tmp_path / "results"
    job, _ = harnessJob(destination, "--fail-with", "uLDCT: the volume is empty")
    with pytest.raises(BackendJobError, match="the volume is empty"):
        job.run(pollSeconds=0.02)
    assert job.state == JobState.FAILED
    assert not destination.exists()
    assert not job.workFolder.exists()


def test_failing_import_is_a_failure_and_cleans_up(tmp_path):
    def brokenImport(folder):
        raise ValueError("output masks do not match the input")

    job, _ = harnessJob(tmp_path / "results", "--steps", "1", importResults=brokenImport)
    with pytest.raises(ValueError, match="do not match"):
        job.run(pollSeconds=0.02)
    assert job.state == JobState.FAILED and not job.workFolder.exists()


class BlockedReader:
    """A `readResults` that reads the harness's output once released, recording its thread."""

    def __init__(self, fail=False):
        self.release, self.entered = threading.Event(), threading.Event()
        self.threads, self.fail = [], fail

    def __call__(self, workFolder):
        self.threads.append(threading.current_thread())
        self.entered.set()
        assert self.release.wait(30)
        if self.fail:
            raise ValueError("the denoised volume is not on the input's voxel grid")
        return sorted(path.name for path in (workFolder / "out").iterdir())


def test_results_are_read_in_a_worker_and_imported_in_the_polling_thread(tmp_path):
    reader, imported = BlockedReader(), []

    def importResults(read):
        imported.append((read, threading.current_thread()))
        return read

    job, progress = harnessJob(tmp_path / "results", "--steps", "2", readResults=reader, importResults=importResults)
    job.start()
    waitUntil(reader.entered.is_set, job=job)
    for _ in range(5):  # the reader is blocked: polling returns at once, and the job runs on
        assert job.poll() is False and job.state == "running"
    assert progress[-1] == {"stage": "reading results", "done": 0, "total": 1}
    reader.release.set()
    waitUntil(job.poll)
    assert job.state == JobState.SUCCEEDED and job.result == ["part0.txt", "part1.txt", "result.txt"]
    assert reader.threads[0] is not threading.current_thread()
    assert imported == [(job.result, threading.current_thread())]
    assert not job.workFolder.exists()


def test_cancel_while_reading_drops_the_results_once_the_reader_is_done(tmp_path):
    reader, imported = BlockedReader(), []
    job, _ = harnessJob(tmp_path / "results", "--steps", "1", readResults=reader, importResults=imported.append)
    job.start()
    waitUntil(reader.entered.is_set, job=job)
    job.cancel()
    assert job.poll() is False and job.workFolder.exists()  # never removed under the reader's feet
    reader.release.set()
    waitUntil(job.poll)
    assert job.state == JobState.CANCELLED and imported == [] and not job.workFolder.exists()


def test_a_failed_read_is_the_jobs_failure(tmp_path):
    reader, imported = BlockedReader(fail=True), []
    reader.release.set()
    job, _ = harnessJob(tmp_path / "results", "--steps", "1", readResults=reader, importResults=imported.append)
    with pytest.raises(ValueError, match="voxel grid"):
        job.run(pollSeconds=0.02)
    assert job.state == JobState.FAILED and imported == [] and not job.workFolder.exists()


def test_runs_the_real_backend_command_line():
    lines = []
    process = BackendProcess(["--version"], onLog=lines.append, python=sys.executable).start()
    assert process.wait(pollSeconds=0.02) == 0
    import ipv2

    assert lines == [f"ipv2 {ipv2.__version__}"]


# Slicer's launcher -------------------------------------------------------------------


def workerPid(pidFile, job):
    waitUntil(lambda: pidFile.is_file() and pidFile.read_text().strip(), job=job)
    return int(pidFile.read_text())


def finishedWhile(job, *pids):
    """Polls the job to its end; returns which of `pids` were alive at the moment it ended."""
    waitUntil(job.poll, timeoutSeconds=30)
    return [pid for pid in pids if processAlive(pid)]


def test_launcher_runs_the_backend_as_its_child_to_success(tmp_path):
    destination = tmp_path / "results"
    job, progress = harnessJob(destination, "--steps", "3", launcher=["--worker-pid-file", tmp_path / "worker.pid"])
    assert job.run(pollSeconds=0.02) == ["part0.txt", "part1.txt", "part2.txt", "result.txt"]
    assert [record["done"] for record in progress] == [0, 1, 2, 3]
    assert (destination / "imported.txt").is_file()


@pytest.mark.skipif(os.name == "nt", reason="SIGTERM and process groups are POSIX")
@pytest.mark.parametrize("ownGroup", [False, True], ids=["worker in the launcher's group", "worker in its own group"])
def test_cancel_ends_the_launchers_child_before_the_work_folder_goes(tmp_path, ownGroup):
    destination, work = tmp_path / "results", tmp_path / "work"
    work.mkdir()
    pidFile = tmp_path / "worker.pid"
    launcher = ["--worker-pid-file", pidFile] + (["--worker-own-group"] if ownGroup else [])
    job, progress = harnessJob(
        destination, "--steps", "1000", "--step-seconds", "0.05", launcher=launcher, workFolder=work
    )
    job.start()
    worker = workerPid(pidFile, job)
    waitUntil(lambda: len(progress) >= 2, job=job)
    job.cancel()
    assert finishedWhile(job, job.process.pid, worker) == []
    assert job.state == JobState.CANCELLED
    assert progress[-1]["done"] < 1000
    assert not destination.exists()
    assert list(work.iterdir()) == []


@pytest.mark.skipif(os.name == "nt", reason="SIGTERM and process groups are POSIX")
def test_a_child_that_ignores_cancel_is_killed_with_its_own_child_after_the_launcher_died(tmp_path):
    destination, work = tmp_path / "results", tmp_path / "work"
    work.mkdir()
    workerFile, grandchildFile = tmp_path / "worker.pid", tmp_path / "grandchild.pid"
    job, progress = harnessJob(
        destination,
        "--steps",
        "1000",
        "--ignore-terminate",
        "--child-pid-file",
        grandchildFile,
        launcher=["--worker-pid-file", workerFile],
        workFolder=work,
        cancelGraceSeconds=0.5,
    )
    job.start()
    worker = workerPid(workerFile, job)
    waitUntil(lambda: len(progress) >= 2, job=job)
    grandchild = int(grandchildFile.read_text())
    job.cancel()
    assert finishedWhile(job, job.process.pid, worker, grandchild) == []
    assert job.state == JobState.CANCELLED
    assert job.process.poll() < 0  # the launcher was ended by the signal, as PythonSlicer is
    assert not destination.exists()
    assert list(work.iterdir()) == []
