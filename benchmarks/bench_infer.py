"""Inference speed and memory of each bundled model, and of the classical methods, on 512x512 slices.

Each model runs in a fresh process so that its peak resident memory is its own. The
classical methods (BM3D, non-local means) denoise the same slices on the CPU, given the
noise level the slices were made with, so that only the denoising is timed. Prints a
table and how many times faster the default model is than BM3D, then as its LAST line
one JSON object:
    {"<model>": {"s_per_slice": ..., "peak_rss_mib": ..., "params": ..., [CUDA figures]}, ...,
     "bm3d": {"s_per_slice": ..., "peak_rss_mib": ..., "params": null, "kind": "classical"}, ...,
     "default_vs_bm3d": {"model": ..., "times_faster": ..., ["cuda_times_faster": ...]}}
with times_faster = BM3D's CPU seconds per slice / the default model's (cuda_: its CUDA
seconds per slice).

    python benchmarks/bench_infer.py                 # every bundled model and BM3D, NLM, 8 slices each
    python benchmarks/bench_infer.py --slices 300    # a full 512x512x300 volume per model
    python benchmarks/bench_infer.py --cli-volume 300  # `ipv2 denoise` end to end on a file
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZE = 512
NOISE_HU = 80.0


def synthetic_chest(slices: int, size: int = SIZE, seed: int = 0) -> np.ndarray:
    """Air, an elliptic body and two lungs in HU with noise: enough to exercise the networks."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    body = ((yy - 0.5) / 0.36) ** 2 + ((xx - 0.5) / 0.44) ** 2 <= 1
    lungs = (((yy - 0.5) / 0.24) ** 2 + ((np.abs(xx - 0.5) - 0.2) / 0.13) ** 2) <= 1
    image = np.where(body, 40.0, -1000.0)
    image[lungs] = -850.0
    volume = np.repeat(image[None].astype(np.float32), slices, axis=0)
    volume += rng.normal(0, NOISE_HU, volume.shape).astype(np.float32)
    return volume


def peak_rss_mib() -> float:
    # Linux reports kilobytes, macOS bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def measure_classical(name: str, slices: int) -> dict:
    from ipv2.denoise.classical import denoise_volume_classical
    from ipv2.volume import Volume

    volume = Volume(synthetic_chest(slices), spacing=(0.7, 0.7, 2.5))
    warm_up = Volume(volume.array[:1].copy(), spacing=volume.spacing)
    denoise_volume_classical(warm_up, name, sigma_hu=NOISE_HU)  # loads the library and its tables
    started = time.perf_counter()
    denoise_volume_classical(volume, name, sigma_hu=NOISE_HU)
    return {
        "s_per_slice": round((time.perf_counter() - started) / slices, 4),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "params": None,
        "kind": "classical",
    }


def measure_one(name: str, slices: int) -> dict:
    from ipv2.denoise.classical import CLASSICAL_DENOISERS

    if name in CLASSICAL_DENOISERS:
        return measure_classical(name, slices)
    import torch

    from ipv2.denoise.inference import denoise_volume, resolve_model
    from ipv2.models.registry import count_parameters
    from ipv2.volume import Volume

    loaded = resolve_model(name)
    volume = Volume(synthetic_chest(slices), spacing=(0.7, 0.7, 2.5))
    denoise_volume(Volume(volume.array[:1].copy(), spacing=volume.spacing), model=loaded, device="cpu")  # warm-up
    started = time.perf_counter()
    denoise_volume(volume, model=loaded, device="cpu")
    figures = {
        "s_per_slice": round((time.perf_counter() - started) / slices, 4),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "params": count_parameters(loaded.model),
        "cpu_threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        denoise_volume(volume, model=loaded, device="cuda")  # warm-up and batch sizing
        torch.cuda.synchronize()
        started = time.perf_counter()
        denoise_volume(volume, model=loaded, device="cuda")
        torch.cuda.synchronize()
        figures["cuda_s_per_slice"] = round((time.perf_counter() - started) / slices, 5)
        figures["cuda_peak_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        figures["cuda_device"] = torch.cuda.get_device_name()
    return figures


def measure_cli(slices: int, model: str) -> dict:
    """`ipv2 denoise` on a file: wall time and the child's peak resident memory."""
    from ipv2.io import write_volume
    from ipv2.volume import Volume

    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.nrrd", Path(folder) / "out.nrrd"
        write_volume(Volume(synthetic_chest(slices), spacing=(0.7, 0.7, 2.5)), source, compress=False)
        command = [
            sys.executable,
            "-m",
            "ipv2",
            "denoise",
            "--model",
            model,
            "--in",
            str(source),
            "--out",
            str(target),
            "--device",
            "cpu",
            "--progress",
            "none",
        ]
        started = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    scale = 1 if sys.platform == "darwin" else 1024
    return {
        "model": model,
        "volume": f"{SIZE}x{SIZE}x{slices}",
        "wall_s": round(seconds, 1),
        "peak_rss_mib": round(usage.ru_maxrss * scale / 2**20, 1),
    }


def default_vs_bm3d(results: dict, default: str) -> dict:
    """How many times less time per slice the default model takes than BM3D; {} unless both ran."""
    if default not in results or "bm3d" not in results:
        return {}
    bm3d = results["bm3d"]["s_per_slice"]
    model = results[default]
    comparison = {"model": default, "times_faster": round(bm3d / max(model["s_per_slice"], 1e-9), 1)}
    if "cuda_s_per_slice" in model:
        comparison["cuda_times_faster"] = round(bm3d / max(model["cuda_s_per_slice"], 1e-9), 1)
    return comparison


def table_row(name: str, row: dict) -> str:
    cuda = f"  cuda {row['cuda_s_per_slice']:.4f} s/slice" if "cuda_s_per_slice" in row else ""
    size = f"{'classical':>16}" if row.get("kind") == "classical" else f"{row['params']:>9,} params"
    return f"{name:<10} {row['s_per_slice']:8.3f} s/slice  {row['peak_rss_mib']:8.1f} MiB  {size}{cuda}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Inference speed and memory of the bundled models.")
    parser.add_argument("--slices", type=int, default=8, help="512x512 slices per measurement (default 8)")
    parser.add_argument(
        "--models", nargs="+", help="models or classical methods to measure (default: every bundled model, bm3d, nlm)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument(
        "--cli-volume",
        type=int,
        metavar="SLICES",
        help="instead, time `ipv2 denoise` with the default model on a 512x512xSLICES file",
    )
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(args.one, args.slices)))
        return 0
    from ipv2.denoise.classical import CLASSICAL_DENOISERS
    from ipv2.models.bundled import bundled_weights_path
    from ipv2.models.registry import DEFAULT_MODEL, MODEL_REGISTRY

    if args.cli_volume:
        print(json.dumps(measure_cli(args.cli_volume, DEFAULT_MODEL)))
        return 0
    names = args.models or [name for name in MODEL_REGISTRY if bundled_weights_path(name)] + list(CLASSICAL_DENOISERS)
    results = {}
    for name in names:
        output = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--one", name, "--slices", str(args.slices)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[name] = json.loads(output.strip().splitlines()[-1])
        print(table_row(name, results[name]), flush=True)
    comparison = default_vs_bm3d(results, DEFAULT_MODEL)
    if comparison:
        cuda = f" ({comparison['cuda_times_faster']:g} times on CUDA)" if "cuda_times_faster" in comparison else ""
        print(
            f"default model {DEFAULT_MODEL} is {comparison['times_faster']:g} times faster than BM3D on the CPU{cuda}",
            flush=True,
        )
        results["default_vs_bm3d"] = comparison
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
