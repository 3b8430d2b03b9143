"""Progress reporting and cancellation shared by every long operation.

Long work takes a `Monitor`. It forwards progress to whoever listens (a tqdm bar on the
command line, JSON lines read by the Slicer module, a Python callback) and raises
`Cancelled` at the next step once cancel has been requested.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Callable, TypeVar

from ipv2.errors import Cancelled

T = TypeVar("T")
ProgressCallback = Callable[[str, int, int], None]


class Monitor:
    """Reports (stage, done, total) and checks for cancel between steps."""

    def __init__(self, callback: ProgressCallback | None = None, cancel_event: threading.Event | None = None):
        self._callback = callback
        self.cancel_event = cancel_event if cancel_event is not None else threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled("cancelled by the user")

    def step(self, stage: str, done: int, total: int) -> None:
        self.check()
        if self._callback is not None:
            self._callback(stage, done, total)

    def track(self, items: Iterable[T], stage: str, total: int | None = None) -> Iterator[T]:
        """Yields items, reporting progress after each one."""
        if total is None:
            total = len(items)  # type: ignore[arg-type]
        self.step(stage, 0, total)
        for done, item in enumerate(items, start=1):
            yield item
            self.step(stage, done, total)


# What a command's work takes to open the progress display and cancel handling of each stretch
# of it (the command line's is `ipv2.cli.common.monitor_from_args`).
MonitorFactory = Callable[[], contextlib.AbstractContextManager[Monitor]]


# Ctrl-C and the SIGTERM a job runner (or the Slicer module) sends end work the same way.
CANCEL_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def cancel_on_signals(monitor: Monitor) -> Iterator[Monitor]:
    """Within the block, SIGINT and SIGTERM cancel `monitor`: the work stops at its next check.

    A second signal raises KeyboardInterrupt at once, for work that has stopped checking.
    Signal handlers belong to the main thread; elsewhere signals are left alone.
    """

    def request_cancel(signum, frame) -> None:
        if monitor.cancelled:
            raise KeyboardInterrupt
        monitor.cancel()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in CANCEL_SIGNALS:
            previous[number] = signal.signal(number, request_cancel)
    try:
        yield monitor
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Within the block SIGTERM raises KeyboardInterrupt, as Ctrl-C does, instead of killing the
    process mid-write: the same clean end for both wherever no monitor listens."""

    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class TqdmProgress:
    """A progress bar per stage on stderr, for the command line."""

    def __init__(self, stream=None):
        self._stream = stream if stream is not None else sys.stderr
        self._bar = None
        self._stage = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = tqdm(total=total, desc=stage, file=self._stream, leave=False, dynamic_ncols=True)
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


PROGRESS_PREFIX = "IPV2_PROGRESS "


class JsonLinesProgress:
    """One line per update, `IPV2_PROGRESS {"stage":..., "done":..., "total":...}`.

    The Slicer modules run the backend in a separate process and parse these lines.
    """

    def __init__(self, stream=None):
        self._stream = stream if stream is not None else sys.stdout

    def __call__(self, stage: str, done: int, total: int) -> None:
        self._stream.write(PROGRESS_PREFIX + json.dumps({"stage": stage, "done": done, "total": total}) + "\n")
        self._stream.flush()

    def close(self) -> None:
        pass


def parse_progress_line(line: str) -> dict | None:
    """The progress record of a line written by `JsonLinesProgress`, or None for other output."""
    if not line.startswith(PROGRESS_PREFIX):
        return None
    try:
        record = json.loads(line[len(PROGRESS_PREFIX) :])
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None
