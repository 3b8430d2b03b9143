"""Entry point of the `ipv2` command."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from typing import List, Optional

from ipv2 import __version__
from ipv2.errors import Cancelled, IPv2Error

# Each module registers one subcommand through `register(subparsers)`.
COMMAND_MODULES = ("purify", "simulate", "phantom", "models", "train", "denoise", "evaluate", "demo")

EXIT_USER_ERROR = 2
EXIT_CANCELLED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipv2", description="Image purification (IPv2) for ultra-low-dose lung CT.")
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


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        result = args.func(args)
    except Cancelled as error:
        print(f"ipv2 {args.command}: {error}; nothing was written", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print(f"ipv2 {args.command}: interrupted; nothing was written", file=sys.stderr)
        return EXIT_CANCELLED
    except IPv2Error as error:
        print(f"ipv2 {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
