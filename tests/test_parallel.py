"""`map_chunks`: results in order, progress, cancel, and an error that stops the rest."""

import threading
import time

import pytest

from ipv2.errors import Cancelled
from ipv2.parallel import map_chunks
from ipv2.progress import Monitor


def test_results_come_in_the_chunks_order_whatever_order_they_finish_in():
    finished = []

    def slow_first(chunk):
        time.sleep(0.05 * (5 - chunk))  # the first chunks end last
        finished.append(chunk)
        return chunk * chunk

    assert map_chunks(slow_first, range(5), workers=5) == [0, 1, 4, 9, 16]
    assert finished != sorted(finished)  # they did run at once, the later ones ending first


def test_progress_is_reported_from_zero_once_per_chunk_in_order():
    seen = []
    monitor = Monitor(lambda stage, done, total: seen.append((stage, done, total)))
    map_chunks(lambda chunk: chunk, "abcd", workers=3, monitor=monitor, stage="chunks")
    assert seen == [("chunks", done, 4) for done in range(5)]

    seen.clear()
    assert map_chunks(lambda chunk: chunk, [], workers=2, monitor=monitor, stage="none") == []
    assert seen == [("none", 0, 0)]

    seen.clear()
    map_chunks(lambda chunk: chunk, "ab", workers=2, monitor=monitor)  # no stage, no progress
    assert seen == []


def test_cancel_before_the_work_runs_no_chunk():
    ran = []
    monitor = Monitor()
    monitor.cancel()
    with pytest.raises(Cancelled):
        map_chunks(ran.append, range(4), workers=2, monitor=monitor)
    assert ran == []


def test_cancel_during_the_work_starts_no_further_chunk():
    ran = []
    monitor = Monitor()

    def cancel_at_second(chunk):
        ran.append(chunk)
        if chunk == 1:
            monitor.cancel()

    with pytest.raises(Cancelled):
        map_chunks(cancel_at_second, range(6), workers=1, monitor=monitor)
    assert ran == [0, 1]


def test_an_error_stops_the_chunks_not_yet_started_and_waits_for_those_running():
    started, ended = [], []
    lock = threading.Lock()

    def fail_second(chunk):
        with lock:
            started.append(chunk)
        if chunk == 0:
            time.sleep(0.3)  # still running when chunk 1 fails
        if chunk == 1:
            raise ValueError("chunk 1 failed")
        with lock:
            ended.append(chunk)

    with pytest.raises(ValueError, match="chunk 1 failed"):
        map_chunks(fail_second, range(8), workers=2)
    assert sorted(started) == [0, 1]  # the other thread took no chunk after the failure
    assert ended == [0]  # the running chunk had ended when the error was raised
