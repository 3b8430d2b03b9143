"""The one backend job a panel runs at a time, and the panel's state that follows from it.

Both panels turn their Apply button into Cancel while a job runs, and back when it ends. That
state is derived here from one fact, whether the slot holds a job, so it cannot drift:

- a job occupies the slot only once `start()` returned; a job whose start raised (inputs
  could not be written, the process could not start) never does, so the next Apply starts
  again instead of being taken as Cancel;
- the slot empties itself before `onFinished(job, owner)` runs, whatever the outcome, so
  the handler may start the next job.

Qt-free: the panel passes its QTimer as `timer` (anything with start() and stop()) and
connects the timer's timeout to `poll`.
"""

import time


class JobSlot:
    def __init__(self, onFinished=None, timer=None):
        self.onFinished = onFinished
        self.timer = timer
        self.job = None
        self.owner = None

    @property
    def busy(self):
        return self.job is not None

    def start(self, job, owner=None):
        """Starts `job` (a `BackendJob`) and holds it; `owner` is what started it (e.g. its button)."""
        if self.busy:
            raise RuntimeError(f"{self.job.title} is still running")
        job.start()  # when this raises, the slot stays empty and the job removed its work folder
        self.job, self.owner = job, owner
        if self.timer is not None:
            self.timer.start()
        return job

    def poll(self):
        """Advances the held job; returns True while a job is running."""
        if self.job is None:
            self._stopTimer()
            return False
        if not self.job.poll():
            return True
        job, owner = self.job, self.owner
        self.job = self.owner = None
        self._stopTimer()  # before the handler, which may start the timer again
        if self.onFinished is not None:
            self.onFinished(job, owner)
        return self.busy  # the handler may have started the next job

    def cancel(self):
        """Asks the running job to stop; it ends (as cancelled) through `poll`."""
        if self.job is not None:
            self.job.cancel()

    def cancelAndWait(self, timeoutSeconds=10.0, pollSeconds=0.05):
        """Cancels and polls the job to its end (the module is closing: no later poll would come).

        Returns True once the slot is empty; its work folder is then removed.
        """
        self.cancel()
        deadline = time.monotonic() + timeoutSeconds
        while self.poll():
            if time.monotonic() > deadline:
                return False
            time.sleep(pollSeconds)
        return True

    def _stopTimer(self):
        if self.timer is not None:
            self.timer.stop()
