"""Runs a Python module as its child the way Slicer's PythonSlicer launcher runs the interpreter.

Like the CTK AppLauncher: the child inherits the output, its exit code is passed on, and
SIGTERM ends the wrapper at once (the default action) without passing it on to the child.

    python -m launcher_like_wrapper --worker-pid-file FILE [--worker-own-group] MODULE ARGS...

`--worker-own-group` starts the child in a new session, out of the wrapper's process group,
so that only its parent pid ties it to the wrapper.
"""

import subprocess
import sys


def main(argv):
    ownGroup = "--worker-own-group" in argv
    argv = [argument for argument in argv if argument != "--worker-own-group"]
    if argv[:1] != ["--worker-pid-file"] or len(argv) < 3:
        print(
            "usage: launcher_like_wrapper --worker-pid-file FILE [--worker-own-group] MODULE ARGS...", file=sys.stderr
        )
        return 2
    pidFile, command = argv[1], argv[2:]
    worker = subprocess.Popen([sys.executable, "-u", "-m", *command], start_new_session=ownGroup)
    with open(pidFile, "w") as handle:
        handle.write(str(worker.pid))
    return worker.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
