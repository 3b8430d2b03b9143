"""What the readers' libraries print, kept off the user's terminal.

ITK writes its warnings (with the source path of its own build), GDCM and OpenJPEG their
notes, straight to the process's stderr from C++, and pydicom through Python's warnings and
logging; before a refusal they spoiled the one line it promises (docs/errors.md). Here the
file descriptor 2 itself points at a temporary file while a reader runs, Python warnings are
recorded, and what was said is logged at DEBUG level (`ipv2 -v` shows it) instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator

LOG = logging.getLogger(__name__)
STDERR_FD = 2


def _flush_stderr() -> None:
    with contextlib.suppress(Exception):
        sys.stderr.flush()


@contextlib.contextmanager
def native_output_captured(what: str) -> Iterator[None]:
    """Runs the block with stderr, native and Python, captured; logs it at DEBUG as `what` said."""
    _flush_stderr()
    try:
        saved = os.dup(STDERR_FD)
    except OSError:  # no stderr to redirect (a closed descriptor): nothing to keep off it either
        yield
        return
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        os.dup2(sink.fileno(), STDERR_FD)
        try:
            yield
        finally:
            _flush_stderr()
            os.dup2(saved, STDERR_FD)
            os.close(saved)
            sink.seek(0)
            said = [sink.read().decode("utf-8", "replace").strip()]
            said += [f"{warning.category.__name__}: {warning.message}" for warning in caught]
            text = "\n".join(line for line in said if line)
            if text:
                LOG.debug("%s said:\n%s", what, text)
