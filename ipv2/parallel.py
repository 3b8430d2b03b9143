"""Work split into chunks and run on a pool of threads, with progress, cancel and a clean stop on error.

The chunks' work is NumPy, SciPy, OpenCV or torch calls that release the interpreter, so
threads share the cores without copying the volumes the chunks are views of.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from ipv2.progress import Monitor

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")


def map_chunks(
    work: Callable[[Chunk], Result],
    chunks: Iterable[Chunk],
    *,
    workers: int,
    monitor: Monitor | None = None,
    stage: str | None = None,
) -> list[Result]:
    """`work(chunk)` for every chunk on up to `workers` threads; the results in the chunks' order.

    Cancel (`monitor`'s) is checked before each chunk starts. With a `stage`, progress
    (stage, done, len(chunks)) is reported from 0, once per chunk in the chunks' order. The
    first error, cancel included, stops the work: chunks not yet started never start, and the
    error is raised once the chunks already running have ended, so that none of them is left
    writing into arrays the caller goes on to use.
    """
    chunks = list(chunks)
    monitor = monitor if monitor is not None else Monitor()
    failed = threading.Event()

    def run(chunk: Chunk) -> Result | None:
        if failed.is_set():
            return None  # an earlier chunk failed: its error is the one raised
        try:
            monitor.check()
            return work(chunk)
        except BaseException:
            failed.set()
            raise

    if stage is not None:
        monitor.step(stage, 0, len(chunks))
    results: list[Result] = []
    if not chunks:
        return results
    with ThreadPoolExecutor(max_workers=max(1, min(int(workers), len(chunks)))) as pool:
        futures = [pool.submit(run, chunk) for chunk in chunks]
        try:
            for done, future in enumerate(futures, start=1):
                results.append(future.result())  # type: ignore[arg-type]  # None only after a failure
                if stage is not None:
                    monitor.step(stage, done, len(chunks))
        except BaseException:
            failed.set()
            for future in futures:
                future.cancel()
            raise
    return results
