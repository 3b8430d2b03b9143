"""The one backend job a panel runs at a time, and what the panel shows of it.

Both panels run their jobs the same way: the button that started a job turns into Cancel, a
progress bar follows the backend's stages (busy until the first record), a status line says
what happens, and when the job ends, whatever the outcome, the button and the bar are put
back and the status says how it ended. That state follows from one fact, whether the panel
holds a job, so it cannot drift:

- a job is held only once its `start()` returned; a job whose start raised (inputs could not
  be written, the process could not start) never is, so the next click starts again instead
  of being taken as Cancel, and the button is left as it was;
- the panel lets go of the job before the job's own `onSucceeded(job)` and the panel's
  `onEnded(job)` run, so these may start the next job. Each job carries what shows its
  results, so the panel never asks which job it was.

Qt-free apart from duck typing, so that it runs under pytest: `timer` is what a `qt.QTimer`
offers (`setInterval`, `start`, `stop`, PythonQt's `connect("timeout()", slot)`), the
progress bar what a `qt.QProgressBar` offers (`setRange`, `setValue`, `setFormat`, `show`,
`hide`), a button has `text` and `enabled`.
"""

from IPv2Lib.BackendJob import JobState

try:
    from slicer.i18n import tr as _
except ImportError:  # MRML without the application (the slicer-core wheel): texts as written

    def _(text):
        return text


POLL_MILLISECONDS = 100


class JobPanel:
    def __init__(
        self,
        progressBar,
        showStatus,
        timer,
        showError=None,
        onProgress=None,
        onLog=None,
        onEnded=None,
    ):
        """
        showStatus(text): the status line. showError(job): a failed job's error, shown to the user.
        onProgress(record), onLog(line): the backend's records and other output lines, besides
        the progress bar.
        onEnded(job): after every end, once the button and the bar are back.
        """
        self.progressBar = progressBar
        self.showStatus = showStatus
        self.showError = showError
        self.onProgress = onProgress
        self.onLog = onLog
        self.onEnded = onEnded
        self.timer = timer
        self.timer.setInterval(POLL_MILLISECONDS)
        self.timer.connect("timeout()", self.poll)
        self.job = None
        self._button = None
        self._buttonText = None
        self.progressBar.hide()

    @property
    def busy(self):
        return self.job is not None

    def startOrCancel(self, button, makeJob):
        """A click on `button`: cancels the job it started, else starts `makeJob(callbacks)`.

        `makeJob` receives the callbacks the panel shows progress with (`onProgress`, `onLog`)
        and returns a `BackendJob`, not started, with its own `onSucceeded`. While another button's job runs, the click
        only says so. Returns the job started, or None. What `makeJob` or the start raises is
        passed on (the panel shows it in an error display); the panel is then as before.
        """
        if self.busy:
            if button is self._button:
                self.cancel()
            else:
                self.showStatus(_("{title} is running; cancel it first.").format(title=self.job.title))
            return None
        job = makeJob(dict(onProgress=self._showProgress, onLog=self._log))
        job.start()  # when this raises, nothing is held and the job removed its work folder
        self.job, self._button, self._buttonText = job, button, button.text
        button.text = _("Cancel")
        self.progressBar.setRange(0, 0)  # busy until the backend reports its first stage
        self.progressBar.show()
        self.showStatus(_("{title} running...").format(title=job.title))
        self.timer.start()
        return job

    def cancel(self):
        """Asks the running job to stop; it ends, as cancelled, through `poll`."""
        if self.job is not None:
            self.job.cancel()
            self._button.enabled = False  # until the job has ended
            self.showStatus(_("Cancelling {title}...").format(title=self.job.title))

    def poll(self):
        """Advances the held job (the timer calls it); returns True while a job is running."""
        if self.job is None:
            self.timer.stop()
            return False
        if not self.job.poll():
            return True
        self._finish()
        return self.busy  # a handler may have started the next job

    def cancelAndWait(self, timeoutSeconds=10.0):
        """Cancels and waits for the job's end (the module is closing: no timer would poll again).

        Returns True once no job is held; its work folder is then removed.
        """
        if self.job is None:
            return True
        self.cancel()
        if not self.job.wait(timeoutSeconds):
            return False
        self._finish()
        return True

    def _finish(self):
        job, button, buttonText = self.job, self._button, self._buttonText
        self.job = self._button = self._buttonText = None
        self.timer.stop()  # before the handlers, which may start the next job
        self.progressBar.hide()
        button.text, button.enabled = buttonText, True
        if job.state == JobState.SUCCEEDED:
            self.showStatus(_("{title} done.").format(title=job.title))
            if job.onSucceeded is not None:
                job.onSucceeded(job)
        elif job.state == JobState.CANCELLED:
            self.showStatus(_("{title} cancelled; nothing was changed.").format(title=job.title))
        else:
            self.showStatus(_("{title} failed.").format(title=job.title))
            if self.showError is not None:
                self.showError(job)
        if self.onEnded is not None:
            self.onEnded(job)

    def _showProgress(self, record):
        self.progressBar.setRange(0, max(int(record.get("total") or 1), 1))
        self.progressBar.setValue(int(record.get("done") or 0))
        self.progressBar.setFormat(f"{record.get('stage', '')}: %v/%m")
        if self.onProgress is not None:
            self.onProgress(record)

    def _log(self, line):
        if self.onLog is not None:
            self.onLog(line)
