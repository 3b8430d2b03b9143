"""Denoise every scan of a folder in Slicer's batch mode, through the backend.

    Slicer --no-splash --no-main-window --python-script SCRIPT \
        --in SCANS_DIR --out RESULTS_DIR [--model NAME_OR_CHECKPOINT] [--strength low|medium|high] \
        [--device auto|cpu|cuda|cuda:N] [--install-dependencies]

SCRIPT is this file: `Scripts/IPv2BatchDenoise.py` in the extension's qt-scripted-modules
folder once installed, `IPv2Denoise/Scripts/IPv2BatchDenoise.py` in a source checkout.

A thin client of the backend, run in a separate process by the same runner as the modules'
panels: `ipv2 denoise --in SCANS_DIR --out RESULTS_DIR/denoised --format nrrd`, then
`ipv2 masks --in RESULTS_DIR/denoised --out RESULTS_DIR/regions`. The backend finds the
scans (its rules: `ipv2.io.scans`), writes atomically, skips what a rerun finds done and
reports each failed scan; nothing is computed in Slicer's process. Nothing is installed
without `--install-dependencies`, and nothing ever opens a dialog.

Slicer ends a `--python-script` run only when the script calls `sys.exit` (an exception
leaves it running with no window), so everything below runs inside one guard and every
path ends in `sys.exit(code)`: 0 when every scan was denoised and segmented, 2 for bad
arguments, missing packages or a scan the backend refused or could not read, 130 when the
backend was interrupted, 1 for anything else.
"""

import sys

# The guard below must not depend on any import that can fail, hence the codes written out here;
# 2 and 130 are the backend's (ipv2.contract.EXIT_USER_ERROR, EXIT_CANCELLED).
EXIT_FAILURE, EXIT_USER_ERROR, EXIT_CANCELLED = 1, 2, 130
DENOISED_FOLDER, REGIONS_FOLDER = "denoised", "regions"


def parseArguments(argv):
    import argparse

    from ipv2.contract import DEFAULT_DEVICE, DEFAULT_MODEL, DEFAULT_STRENGTH, DENOISERS, DEVICES, STRENGTHS
    from ipv2.device_names import ONE_GPU, require_device_name
    from ipv2.errors import InputError

    def deviceName(text):
        try:
            return require_device_name(text)
        except InputError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parser = argparse.ArgumentParser(prog="IPv2BatchDenoise", description="Denoise a folder of CT scans with IPv2.")
    parser.add_argument(
        "--in", dest="inputFolder", required=True, help="folder of scans (volume files or DICOM folders)"
    )
    parser.add_argument(
        "--out",
        dest="outputFolder",
        required=True,
        help=f"folder for the results: {DENOISED_FOLDER}/<scan>.nrrd and {REGIONS_FOLDER}/<scan>.nrrd",
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"{', '.join(DENOISERS)} or a checkpoint file (default {DEFAULT_MODEL})"
    )
    parser.add_argument("--strength", default=DEFAULT_STRENGTH, choices=STRENGTHS)
    parser.add_argument("--device", default=DEFAULT_DEVICE, type=deviceName, help=f"{', '.join(DEVICES)} or {ONE_GPU}")
    parser.add_argument(
        "--install-dependencies",
        action="store_true",
        help="install torch (through the PyTorch extension) and the packages IPv2 needs, without asking",
    )
    return parser.parse_args(argv)


def dependenciesReady(install):
    """True when the backend can run; lists what is missing unless asked to install it (never asks)."""
    from IPv2Lib.Dependencies import Dependencies

    if install:
        Dependencies.ensureAll(interactive=False)  # raises DependencyError with what went wrong
        return True
    missing = Dependencies.missing()
    for problem in missing:
        print(f"missing: {problem}", file=sys.stderr)
    if missing:
        print("run again with --install-dependencies to install them", file=sys.stderr)
    return not missing


def runBackend(arguments):
    """One backend command through the modules' process runner; returns its exit code."""
    from IPv2Lib.BackendProcess import BackendProcess

    def showProgress(record):
        summary = record.get("summary")
        if summary is not None:
            for item in summary.get("failed", []):
                print(f"failed: {item['scan']}: {item['reason']}", file=sys.stderr)
            print(
                f"{record['stage']}: {len(summary.get('done', []))} done, {len(summary.get('skipped', []))} "
                f"skipped (already done), {len(summary.get('failed', []))} failed",
                flush=True,
            )

    process = BackendProcess(
        [*arguments, "--progress", "json"],
        onProgress=showProgress,
        onLog=lambda line: print(line, file=sys.stderr, flush=True),
    )
    process.start()
    try:
        return process.wait()
    except BaseException:  # Ctrl-C or an error here: the backend's tree must not outlive the script
        process.cancel()
        process.wait()
        raise


def run(argv):
    from pathlib import Path

    arguments = parseArguments(argv)
    if not Path(arguments.inputFolder).is_dir():  # refused before any install, which can take minutes
        print(f"--in {arguments.inputFolder}: no such file or folder", file=sys.stderr, flush=True)
        return EXIT_USER_ERROR
    if not dependenciesReady(arguments.install_dependencies):
        return EXIT_USER_ERROR

    resultsFolder = Path(arguments.outputFolder)
    denoised, regions = resultsFolder / DENOISED_FOLDER, resultsFolder / REGIONS_FOLDER
    denoiseCode = runBackend(
        [
            "denoise",
            "--in",
            arguments.inputFolder,
            "--out",
            denoised,
            "--format",
            "nrrd",
            "--model",
            arguments.model,
            "--strength",
            arguments.strength,
            "--device",
            arguments.device,
        ]
    )
    if not denoised.is_dir():  # refused before any scan: nothing to segment
        return denoiseCode or EXIT_FAILURE
    masksCode = runBackend(["masks", "--in", denoised, "--out", regions])
    return denoiseCode or masksCode


def isDependencyError(error):
    try:
        from IPv2Lib.Dependencies import DependencyError
    except Exception:  # the library itself cannot be imported: not its error
        return False
    return isinstance(error, DependencyError)


def main(argv):
    """The exit code of the run; never raises, so that Slicer always receives one."""
    try:
        return run(argv)
    except SystemExit as exit:  # argparse's refusals and --help
        return exit.code if isinstance(exit.code, int) else EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("IPv2BatchDenoise: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except BaseException as error:
        if isDependencyError(error):
            print(f"IPv2BatchDenoise: error: {error}", file=sys.stderr)
            return EXIT_USER_ERROR
        import traceback

        traceback.print_exc()
        print(f"IPv2BatchDenoise: error: {error}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
