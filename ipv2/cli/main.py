"""Entry point of the `ipv2` command."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys

from ipv2 import __version__
from ipv2.errors import Cancelled, IPv2Error
from ipv2.progress import interrupt_on_sigterm
from ipv2.protocol import ExitCode

# Each module registers one subcommand through `register(subparsers)`.
COMMAND_MODULES = ("purify", "simulate", "phantom", "models", "train", "denoise", "masks", "evaluate", "demo")

# What a shell reports for a program ended by SIGPIPE: the reader (e.g. `head`) stopped reading.
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipv2", description="Image purification (IPv2) for ultra-low-dose lung CT.")
    parser.add_argument("--version", action="version", version=f"ipv2 {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        module_name = f"ipv2.cli.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one command; Ctrl-C or SIGTERM at any point, start-up included, ends it with exit 130."""
    command = None
    try:
        with interrupt_on_sigterm():
            parser = build_parser()
            args = parser.parse_args(argv)
            command = args.command
            code = _run(args)
            sys.stdout.flush()  # here, so that a reader that has gone is met within this handler
            return code
    except KeyboardInterrupt:
        print(
            f"ipv2 {command}: interrupted; nothing was written"
            if command
            else "ipv2: interrupted while starting; nothing was written",
            file=sys.stderr,
        )
        return ExitCode.CANCELLED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        result = args.func(args)
    except Cancelled as error:
        print(f"ipv2 {args.command}: {error}; nothing was written", file=sys.stderr)
        return ExitCode.CANCELLED
    except IPv2Error as error:
        print(f"ipv2 {args.command}: error: {error}", file=sys.stderr)
        return ExitCode.USER_ERROR
    return int(result or 0)


def _silence_stdout() -> None:
    """Points stdout at the null device, so that the interpreter's final flush of what the
    closed pipe did not take raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced by an object without a descriptor
        pass


if __name__ == "__main__":
    sys.exit(main())
