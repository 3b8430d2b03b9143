"""A backend-like command for the process tests: slow steps, then one output file.

It reports and cancels through the backend's own machinery (`monitor_from_args`: JSON
progress lines, SIGTERM turned into a clean cancel; `atomic_output_dir`: nothing is written
unless the run completes), so the runner is tested against the same protocol as `ipv2`
commands while taking as long as a test needs.
"""

import argparse
import signal
import subprocess
import sys
import time

from ipv2.cli.common import add_progress_option, monitor_from_args
from ipv2.errors import Cancelled, InputError
from ipv2.io import atomic_output_dir


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--step-seconds", type=float, default=0.05)
    parser.add_argument("--fail-with", default=None, help="raise this input error at the first step")
    parser.add_argument("--ignore-terminate", action="store_true", help="behave like a hung process")
    parser.add_argument("--child-pid-file", default=None, help="start a child process and write its pid here")
    add_progress_option(parser)
    args = parser.parse_args(argv)
    child = None
    if args.child_pid_file:
        ignore = "signal.signal(signal.SIGTERM, signal.SIG_IGN); " if args.ignore_terminate else ""
        child = subprocess.Popen([sys.executable, "-c", f"import signal, time; {ignore}time.sleep(120)"])
        with open(args.child_pid_file, "w") as handle:
            handle.write(str(child.pid))
    try:
        with monitor_from_args(args) as monitor:
            if args.ignore_terminate:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            with atomic_output_dir(args.out) as partial:
                for step in monitor.track(range(args.steps), "writing", total=args.steps):
                    if args.fail_with:
                        raise InputError(args.fail_with)
                    time.sleep(args.step_seconds)
                    (partial / f"part{step}.txt").write_text(str(step))
                (partial / "result.txt").write_text("done")
    except Cancelled as error:
        print(f"slow_writer: {error}; nothing was written", file=sys.stderr)
        return 130
    except InputError as error:
        print(f"slow_writer: error: {error}", file=sys.stderr)
        return 2
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
