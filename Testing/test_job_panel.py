"""The panel's job lifecycle on real backend processes: button, progress bar, status, end.

The widgets are stand-ins with the attributes a panel touches (a QPushButton's text and
enabled, a QProgressBar's range, value and format, a QTimer's start and stop); the jobs are
real processes.
"""

import sys

import pytest
from harness import harnessJob, waitUntil

from ipv2.protocol import DenoiseCommand
from IPv2Lib.BackendJob import BackendJob, JobState
from IPv2Lib.JobPanel import POLL_MILLISECONDS, JobPanel


class Timer:
    def __init__(self):
        self.active, self.starts, self.interval, self.slots = False, 0, None, {}

    def setInterval(self, milliseconds):
        self.interval = milliseconds

    def connect(self, signal, slot):
        self.slots[signal] = slot

    def start(self):
        self.active, self.starts = True, self.starts + 1

    def stop(self):
        self.active = False

    def fire(self):
        """What the event loop does on each timeout while the timer runs."""
        if self.active:
            self.slots["timeout()"]()


class ProgressBar:
    def __init__(self):
        self.visible, self.minimum, self.maximum, self.value, self.format = True, 0, 100, 0, "%p%"

    def setRange(self, minimum, maximum):
        self.minimum, self.maximum = minimum, maximum

    def setValue(self, value):
        self.value = value

    def setFormat(self, text):
        self.format = text

    def show(self):
        self.visible = True

    def hide(self):
        self.visible = False


class Button:
    def __init__(self, text):
        self.text, self.enabled = text, True


class Panel:
    """A JobPanel with its widgets and a record of what it showed; the jobs it runs record their
    own success in `succeeded` (`job(...)`)."""

    def __init__(self, **handlers):
        self.timer, self.progressBar = Timer(), ProgressBar()
        self.status, self.errors, self.succeeded, self.ended, self.ranges = [], [], [], [], []
        self.jobs = JobPanel(
            self.progressBar,
            self.status.append,
            self.timer,
            showError=self.errors.append,
            onEnded=self.ended.append,
            **handlers,
        )

    def runTimer(self, condition=lambda panel: not panel.jobs.busy):
        def step():
            self.timer.fire()
            self.ranges.append((self.progressBar.minimum, self.progressBar.maximum, self.progressBar.value))
            return condition(self)

        waitUntil(step)

    def job(self, *arguments, **options):
        """A slow writer job (`harnessJob`) whose success shows in `succeeded`."""
        return harnessJob(*arguments, onSucceeded=self.succeeded.append, **options)


def unwritableInputsJob(tmp_path):
    """A job whose inputs cannot be written: their folder's path is taken by a file."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is needed")
    workFolders = []

    def prepareInputs(folder):
        workFolders.append(folder)
        (blocker / "input.nrrd").write_text("never written")

    job = BackendJob("Denoising", DenoiseCommand(), prepareInputs, lambda folder: None, python=sys.executable)
    return job, workFolders


def test_a_job_turns_its_button_into_cancel_shows_progress_and_puts_everything_back(tmp_path):
    panel, apply = Panel(), Button("Apply")
    assert not panel.progressBar.visible and panel.timer.interval == POLL_MILLISECONDS
    job = panel.jobs.startOrCancel(
        apply, lambda callbacks: panel.job(tmp_path / "results", "--steps", "3", **callbacks)[0]
    )
    assert panel.jobs.busy and panel.timer.active and apply.text == "Cancel"
    assert panel.progressBar.visible and (panel.progressBar.minimum, panel.progressBar.maximum) == (0, 0)
    assert panel.status == ["slow writer running..."]
    panel.runTimer()
    assert job.state == JobState.SUCCEEDED and panel.succeeded == [job] and panel.ended == [job] and panel.errors == []
    assert apply.text == "Apply" and apply.enabled and not panel.progressBar.visible and not panel.timer.active
    assert panel.status[-1] == "slow writer done."
    # The slow writer reports steps 0..3 of 3 under its stage name.
    assert (0, 3, 3) in panel.ranges and panel.progressBar.format.endswith(": %v/%m")


def test_a_failed_start_leaves_the_panel_as_it_was_and_the_next_click_starts(tmp_path):
    panel, apply = Panel(), Button("Apply")
    failing, workFolders = unwritableInputsJob(tmp_path)
    with pytest.raises(NotADirectoryError):
        panel.jobs.startOrCancel(apply, lambda callbacks: failing)
    assert not panel.jobs.busy and apply.text == "Apply" and apply.enabled
    assert not panel.progressBar.visible and panel.timer.starts == 0 and panel.status == []
    assert not workFolders[0].exists()
    job = panel.jobs.startOrCancel(apply, lambda callbacks: panel.job(tmp_path / "results", "--steps", "1")[0])
    assert job is not None and apply.text == "Cancel"
    panel.runTimer()
    assert job.state == JobState.SUCCEEDED and apply.text == "Apply"


def test_the_same_button_cancels_another_only_says_a_job_runs(tmp_path):
    panel, train, denoise = Panel(), Button("Start"), Button("Apply")
    job, progress = panel.job(tmp_path / "results", "--steps", "500", "--step-seconds", "0.05")
    panel.jobs.startOrCancel(train, lambda callbacks: job)
    panel.runTimer(lambda panel: len(progress) >= 2)
    other = []
    assert panel.jobs.startOrCancel(denoise, lambda callbacks: other.append(1)) is None
    assert other == [] and denoise.text == "Apply" and panel.status[-1] == "slow writer is running; cancel it first."
    panel.jobs.startOrCancel(train, lambda callbacks: other.append(1))
    assert other == [] and not train.enabled and train.text == "Cancel"  # until the process has ended
    panel.runTimer()
    assert job.state == JobState.CANCELLED and panel.succeeded == [] and panel.ended == [job]
    assert train.text == "Start" and train.enabled and panel.status[-1] == "slow writer cancelled; nothing was changed."
    assert not (tmp_path / "results").exists() and not job.workFolder.exists()


def test_a_failed_job_shows_its_error(tmp_path):
    panel, apply = Panel(), Button("Apply")
    job, _ = panel.job(tmp_path / "results", "--steps", "2", "--fail-with", "the scan is empty")
    panel.jobs.startOrCancel(apply, lambda callbacks: job)
    panel.runTimer()
    assert job.state == JobState.FAILED and panel.errors == [job] and panel.succeeded == []
    assert panel.status[-1] == "slow writer failed." and str(job.error) == "slow writer failed: the scan is empty"
    assert apply.text == "Apply" and apply.enabled


def test_the_success_handler_may_start_the_next_job(tmp_path):
    panel, apply = Panel(), Button("Apply")
    jobs = [harnessJob(tmp_path / f"results{index}", "--steps", "1")[0] for index in range(2)]
    jobs[0].onSucceeded = lambda job: panel.jobs.startOrCancel(apply, lambda callbacks: jobs[1])
    panel.jobs.startOrCancel(apply, lambda callbacks: jobs[0])
    panel.runTimer(lambda panel: jobs[1].finished)
    assert (
        [job.state for job in jobs] == [JobState.SUCCEEDED, JobState.SUCCEEDED]
        and apply.text == "Apply"
        and not panel.jobs.busy
    )


def test_closing_the_module_ends_the_run_and_removes_its_work_folder(tmp_path):
    panel, apply = Panel(), Button("Apply")
    job, progress = harnessJob(tmp_path / "results", "--steps", "1000", "--step-seconds", "0.05")
    panel.jobs.startOrCancel(apply, lambda callbacks: job)
    panel.runTimer(lambda panel: len(progress) >= 2)
    assert panel.jobs.cancelAndWait(timeoutSeconds=20)
    assert job.state == JobState.CANCELLED and panel.ended == [job] and not panel.jobs.busy
    assert not job.workFolder.exists() and not job.process.running
