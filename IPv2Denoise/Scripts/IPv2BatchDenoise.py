"""Denoise every scan of a folder in Slicer's batch mode, with the modules' own logic.

    Slicer --no-splash --no-main-window --python-script SCRIPT \
        --in SCANS_DIR --out RESULTS_DIR [--model NAME_OR_CHECKPOINT] [--strength low|medium|high] \
        [--device auto|cpu|cuda] [--install-dependencies]

SCRIPT is this file: `Scripts/IPv2BatchDenoise.py` in the extension's qt-scripted-modules
folder once installed, `IPv2Denoise/Scripts/IPv2BatchDenoise.py` in a source checkout.
Each scan (a volume file or a DICOM series folder) gives `<name>_denoised.nrrd` and
`<name>_regions.seg.nrrd` (Background, Lung parenchyma, Body of the denoised scan). Nothing
is installed without `--install-dependencies`: missing packages are listed and the script
exits. The exit code is 0 when every scan succeeded, 1 when some failed, 2 for bad
arguments or missing packages. It imports `IPv2Lib` and `ipv2` from Slicer's path, where
the extension's scripted-modules folder (or, in a source checkout, the repository root; see
docs/slicer.md) puts them.
"""

import argparse
import os
import sys
from pathlib import Path

from ipv2.contract import DEFAULT_MODEL, DEFAULT_STRENGTH, DENOISERS, DEVICES, STRENGTHS

SCAN_SUFFIXES = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd")


def scansIn(folder):
    scans = []
    for path in sorted(Path(folder).iterdir()):
        name = path.name.lower()
        if path.is_file() and any(name.endswith(suffix) for suffix in SCAN_SUFFIXES):
            scans.append(path)
        elif path.is_dir() and any(child.is_file() for child in path.iterdir()):
            scans.append(path)  # a DICOM series folder
    return scans


def scanName(path):
    name = path.name
    for suffix in sorted(SCAN_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def parseArguments(argv):
    parser = argparse.ArgumentParser(description="Denoise a folder of CT scans with IPv2.")
    parser.add_argument("--in", dest="inputFolder", required=True, help="folder of scans (files or DICOM folders)")
    parser.add_argument("--out", dest="outputFolder", required=True, help="folder for the results")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"{', '.join(DENOISERS)} or a checkpoint file (default {DEFAULT_MODEL})")
    parser.add_argument("--strength", default=DEFAULT_STRENGTH, choices=STRENGTHS)
    parser.add_argument("--device", default="auto", choices=DEVICES)
    parser.add_argument("--install-dependencies", action="store_true",
                        help="install torch (through the PyTorch extension) and the packages IPv2 needs, without asking")
    return parser.parse_args(argv)


def dependenciesReady(install):
    """True when the backend can run; lists what is missing unless asked to install it."""
    from IPv2Lib.Dependencies import Dependencies

    if install:
        return Dependencies.ensureAll(askConfirmation=False, installInTesting=True)
    missing = Dependencies.missing()
    for problem in missing:
        print(f"missing: {problem}", file=sys.stderr)
    if missing:
        print("run again with --install-dependencies to install them", file=sys.stderr)
    return not missing


def denoiseScan(path, outputFolder, model, device, strength=DEFAULT_STRENGTH):
    import slicer
    from ipv2.io import read_volume
    from ipv2.masks import compute_region_masks

    from IPv2Lib.DenoiseLogic import DenoiseLogic
    from IPv2Lib.RegionSegmentation import RegionSegmentation
    from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

    name = scanName(path)
    scan = read_volume(path)
    inputNode = VolumeNodeConverter.toNewNode(scan, name)
    denoisedNode = DenoiseLogic().createDenoiseJob(inputNode, model, device, strength).run()
    denoised = VolumeNodeConverter.toVolume(denoisedNode)
    # One scan has no partner: its masks come from the denoised image on both sides.
    masks = compute_region_masks(denoised.array, denoised.array, spacing=denoised.spacing)
    segmentationNode = RegionSegmentation.create(masks.labelmap(), denoisedNode, f"{name} regions")
    outputs = {denoisedNode: outputFolder / f"{name}_denoised.nrrd",
               segmentationNode: outputFolder / f"{name}_regions.seg.nrrd"}
    for node, destination in outputs.items():
        partial = destination.with_name(f".{destination.name}.partial{''.join(destination.suffixes)}")
        if not slicer.util.saveNode(node, str(partial)):
            raise RuntimeError(f"could not write {destination}")
        os.replace(partial, destination)
    for node in (inputNode, denoisedNode, segmentationNode):
        slicer.mrmlScene.RemoveNode(node)
    return list(outputs.values())


def main(argv):
    arguments = parseArguments(argv)
    inputFolder, outputFolder = Path(arguments.inputFolder), Path(arguments.outputFolder)
    if not inputFolder.is_dir():
        print(f"--in {inputFolder}: no such folder", file=sys.stderr)
        return 2
    scans = scansIn(inputFolder)
    if not scans:
        print(f"--in {inputFolder}: no volume files or DICOM folders in it", file=sys.stderr)
        return 2
    if not dependenciesReady(arguments.install_dependencies):
        return 2
    outputFolder.mkdir(parents=True, exist_ok=True)
    failures = 0
    for index, scan in enumerate(scans, start=1):
        try:
            written = denoiseScan(scan, outputFolder, arguments.model, arguments.device, arguments.strength)
            print(f"[{index}/{len(scans)}] {scan.name}: wrote {', '.join(path.name for path in written)}")
        except Exception as error:
            failures += 1
            print(f"[{index}/{len(scans)}] {scan.name}: failed: {error}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
