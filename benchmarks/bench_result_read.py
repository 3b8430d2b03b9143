"""How long the panel's main thread spends reading a backend result back, gzip against raw.

A job's results used to be read and turned into nodes on Slicer's main thread once the
backend had exited. Now the file is read (`ipv2.io.read_volume`) in a worker thread
(`BackendJob(readResults=...)`) and only the node is made on the main thread
(`importResults`, `VolumeNodeConverter.toNewNode` like the input node). This writes one
float32 volume as the backend writes its results, gzip (`ipv2 ... --out` on the command
line) and raw (`--uncompressed`, what the panels ask for), and times the read, and with the
slicer-core wheel also the new node, best of `--repeat`.

    PYTHONPATH=. python benchmarks/bench_result_read.py             # 512 x 512 x 300 of a synthetic chest
    PYTHONPATH=. python benchmarks/bench_result_read.py --scan /path/to/ct.nrrd --slices 300

(the repository root on the path, for IPv2Lib).

Prints one line per encoding, then as its last line one JSON object
{encoding: {"file_mb", "write_s", "read_s", "node_s"}}.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from ipv2.io import read_volume, write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume


def result_like(scan, slices):
    """A float32 volume of `slices` slices with a denoised scan's texture: the scan's slices
    repeated as needed, with the sub-HU variation a network's output has (gzip finds no runs in it)."""
    if scan is not None:
        source = read_volume(scan)
        array = source.array[np.arange(slices) % source.shape[0]]
        spacing = source.spacing
    else:
        array = chest_like((slices, 512, 512))
        spacing = (0.7, 0.7, 1.0)
    rng = np.random.default_rng(0)
    array = (array + rng.normal(0.0, 0.5, array.shape)).astype(np.float32)
    return Volume(array, spacing=spacing)


def best_of(repeat, action):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return min(times), result


def node_maker():
    """VolumeNodeConverter.toNewNode on a real MRML scene, or None without the slicer-core wheel."""
    try:
        import slicer
    except ImportError:
        return None
    from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

    scene = slicer.vtkMRMLScene()
    slicer.mrmlScene = scene
    source = []

    def make(volume):
        """A result node made like its input's, as the panels make them (the input made once, untimed)."""
        if not source:
            source.append(VolumeNodeConverter.toNewNode(volume, "input", scene=scene))
        node = VolumeNodeConverter.toNewNode(volume, "result", like=source[0], scene=scene)
        scene.RemoveNode(node)

    return make


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scan",
        type=Path,
        default=None,
        help="a CT volume whose slices the result repeats (default: a synthetic chest)",
    )
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.scan is not None and not args.scan.is_file():
        parser.error(f"--scan: {args.scan} is not a file")
    volume = result_like(args.scan, args.slices)
    makeNode = node_maker()
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for encoding, compress in (("gzip", True), ("raw", False)):
            path = Path(folder) / f"result-{encoding}.nrrd"
            write_s, _ = best_of(1, partial(write_volume, volume, path, compress=compress))
            read_s, result = best_of(args.repeat, partial(read_volume, path))
            if makeNode:
                makeNode(result)  # the input node, made once
            node_s = best_of(args.repeat, partial(makeNode, result))[0] if makeNode else None
            figures[encoding] = {
                "file_mb": round(path.stat().st_size / 2**20, 1),
                "write_s": round(write_s, 3),
                "read_s": round(read_s, 3),
                "node_s": None if node_s is None else round(node_s, 3),
            }
            print(
                f"{encoding}: {volume.shape} float32, {figures[encoding]['file_mb']} MB, written in {write_s:.2f} s, "
                f"read in {read_s:.3f} s" + ("" if node_s is None else f", node in {node_s:.3f} s")
            )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
