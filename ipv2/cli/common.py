"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import contextlib
import functools
from collections.abc import Iterator
from typing import Callable

from ipv2.contract import DEFAULT_DEVICE, DEVICES, SEED_RANGE
from ipv2.device_names import is_device_name
from ipv2.io.lock import rank_zero_output_lock
from ipv2.io.outputs import require_writable_output
from ipv2.progress import JsonLinesProgress, Monitor, TqdmProgress, cancel_on_signals


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        choices=("bar", "json", "none"),
        default="bar",
        help="progress display: a bar on stderr (default), JSON lines on stdout "
        "for programs such as the Slicer module, or nothing",
    )


def seed_value(text: str) -> int:
    """An argparse type: an integer seed within SEED_RANGE, refused with exit 2 otherwise."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise argparse.ArgumentTypeError(f"{seed} must be from {SEED_RANGE[0]} to {SEED_RANGE[1]}")
    return seed


def add_seed_option(parser: argparse.ArgumentParser, default: int = 0) -> None:
    parser.add_argument(
        "--seed",
        type=seed_value,
        default=default,
        help=f"random seed; the same seed gives the same result (default {default})",
    )


def device_value(text: str) -> str:
    """auto, cpu, cuda or cuda:N, as ipv2.contract.DEVICES says (argparse's choices would refuse cuda:N)."""
    name = text.strip().lower()
    if is_device_name(name):
        return name
    raise argparse.ArgumentTypeError(f"'{text}' is not a device; choose {', '.join(DEVICES)} or cuda:N (one GPU)")


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default=DEFAULT_DEVICE,
        type=device_value,
        metavar="DEVICE",
        help="where to compute: auto takes the GPU when there is one, cpu, cuda or cuda:N for one "
        f"GPU of several (default {DEFAULT_DEVICE})",
    )


@contextlib.contextmanager
def monitor_from_args(args: argparse.Namespace) -> Iterator[Monitor]:
    """A monitor that shows progress as asked and turns Ctrl-C and SIGTERM into a clean cancel."""
    kind = getattr(args, "progress", "bar")
    reporters: dict[str, Callable[[], TqdmProgress | JsonLinesProgress]] = {
        "bar": TqdmProgress,
        "json": JsonLinesProgress,
    }
    reporter = reporters.get(kind)
    sink = reporter() if reporter else None
    monitor = Monitor(sink)
    try:
        with cancel_on_signals(monitor):
            yield monitor
    finally:
        if sink is not None:
            sink.close()


def add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overwrite", action="store_true", help="replace outputs that already exist (an input is never replaced)"
    )


def add_uncompressed_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--uncompressed",
        action="store_true",
        help="write the output volumes without gzip: larger files that read back about four times "
        "as fast (what the Slicer modules ask for; their reader waits on it)",
    )


def holds_output_lock(folder: bool = False) -> Callable:
    """Decorates a command's `run(args)`: first `args.out` is checked to be a writable file (or
    with `folder` a folder) output, then the run holds its exclusive lock (`ipv2.io.lock`), so a
    second run on the same output is refused at the start. Under torchrun rank 0 holds it."""

    def decorate(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        @functools.wraps(run)
        def locked(args: argparse.Namespace) -> int:
            require_writable_output(args.out, folder=folder)
            with rank_zero_output_lock(args.out, folder=folder):
                return run(args)

        return locked

    return decorate
