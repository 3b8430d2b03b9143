"""The background runner: progress read from a real backend process, cancel, failure."""

import os
import sys
import time
from pathlib import Path

import pytest

from IPv2Lib.BackendJob import CANCELLED, FAILED, SUCCEEDED, BackendJob, BackendJobCancelled, BackendJobError
from IPv2Lib.BackendProcess import BackendProcess

TESTING = Path(__file__).resolve().parent
HARNESS = "slow_writer_command"


def harnessEnvironment():
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTING), environment.get("PYTHONPATH")]))
    return environment


def harnessJob(destination, *extra, importResults=None, **options):
    """A job running the slow writer into its work folder, then moving the result to `destination`."""
    progress = []

    def importInto(workFolder):
        produced = sorted(path.name for path in (workFolder / "out").iterdir())
        destination.mkdir()
        (destination / "imported.txt").write_text(",".join(produced))
        return produced

    job = BackendJob(
        "slow writer", prepareInputs=lambda folder: (folder / "input.txt").write_text("input"),
        buildArguments=lambda folder: ["--out", folder / "out", "--progress", "json", *extra],
        importResults=importResults or importInto, onProgress=progress.append, python=sys.executable,
        environment=harnessEnvironment(), processOptions={"module": HARNESS, **options})
    return job, progress


def waitUntil(condition, timeoutSeconds=30.0, job=None):
    deadline = time.monotonic() + timeoutSeconds
    while not condition():
        if job is not None:
            job.poll()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_progress_lines_reach_the_callback_and_results_are_imported(tmp_path):
    destination = tmp_path / "results"
    job, progress = harnessJob(destination, "--steps", "4")
    result = job.run(pollSeconds=0.02)
    assert job.state == SUCCEEDED
    assert [record["done"] for record in progress] == [0, 1, 2, 3, 4]
    assert all(record["stage"] == "writing" and record["total"] == 4 for record in progress)
    assert result == ["part0.txt", "part1.txt", "part2.txt", "part3.txt", "result.txt"]
    assert (destination / "imported.txt").is_file()
    assert not job.workFolder.exists()


def test_cancel_stops_the_process_and_nothing_is_written(tmp_path):
    destination = tmp_path / "results"
    imported = []
    job, progress = harnessJob(destination, "--steps", "200", "--step-seconds", "0.05",
                               importResults=lambda folder: imported.append(folder))
    job.start()
    workFolder = job.workFolder
    waitUntil(lambda: len(progress) >= 3, job=job)
    assert (workFolder / "input.txt").is_file()
    started = time.monotonic()
    job.cancel()
    waitUntil(job.poll)
    assert job.state == CANCELLED
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
    job, progress = harnessJob(destination, "--steps", "1000", "--ignore-terminate", "--child-pid-file", pidFile,
                               cancelGraceSeconds=0.5)
    job.start()
    waitUntil(lambda: len(progress) >= 2, job=job)
    childPid = int(pidFile.read_text())
    job.cancel()
    waitUntil(job.poll, timeoutSeconds=20)
    assert job.state == CANCELLED
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
    assert job.state == FAILED
    assert not destination.exists()
    assert not job.workFolder.exists()


def test_failing_import_is_a_failure_and_cleans_up(tmp_path):
    def brokenImport(folder):
        raise ValueError("output masks do not match the input")

    job, _ = harnessJob(tmp_path / "results", "--steps", "1", importResults=brokenImport)
    with pytest.raises(ValueError, match="do not match"):
        job.run(pollSeconds=0.02)
    assert job.state == FAILED and not job.workFolder.exists()


def test_runs_the_real_backend_command_line():
    lines = []
    process = BackendProcess(["--version"], onLog=lines.append, python=sys.executable).start()
    assert process.wait(pollSeconds=0.02) == 0
    import ipv2

    assert lines == [f"ipv2 {ipv2.__version__}"]
