"""Time to generate and write the default phantom pair (512 x 512 x 48), or one of the named
acquisition variants; prints figures, the deformation file's size among them.

Usage: python benchmarks/bench_phantom.py [--size 512] [--slices 48] [--device auto] [--variant NAME]
(--variant takes its own matrix and slices where it sets them; --size and --slices apply otherwise)
"""

import argparse
import os
import tempfile
import time
from dataclasses import replace

from ipv2.phantom import ACQUISITION_VARIANTS, acquisition_variant, generate_phantom_pair, write_phantom
from ipv2.phantom.variants import split_settings
from ipv2.progress import Monitor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--slices", type=int, default=48)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--variant", default="default", choices=tuple(ACQUISITION_VARIANTS))
    args = parser.parse_args()
    settings = {"size": args.size, "slices": args.slices}
    settings.update(acquisition_variant(args.variant))
    if "pixel_mm" in settings and "fov_mm" in settings:
        settings.pop("size")

    stages = {}

    def record(stage, done, total):
        stages.setdefault(stage, [time.perf_counter(), None])[1] = time.perf_counter()

    start = time.perf_counter()
    acquisition, options = split_settings(settings)
    clean = generate_phantom_pair(acquisition, replace(options, noise=False))
    anatomy_s = time.perf_counter() - start
    start = time.perf_counter()
    pair = generate_phantom_pair(acquisition, options, device=args.device, monitor=Monitor(record))
    total_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        write_phantom(pair, out, png=False)
        write_s = time.perf_counter() - start
        deformation_mb = os.path.getsize(os.path.join(out, "deformation.nrrd")) / 1e6
    shape = "x".join(str(n) for n in pair.truth.shape)
    print(f"phantom {args.variant} {shape}, spacing {pair.truth.spacing} mm, device {args.device}")
    print(f"  anatomy, both breathing states, no noise: {anatomy_s:6.1f} s")
    for stage, (first, last) in stages.items():
        print(f"  stage {stage!r}: {last - first:6.1f} s")
    print(f"  generate_phantom_pair with noise (total): {total_s:6.1f} s  (target < 60 s)")
    print(f"  write_phantom (5 NRRDs + preview):        {write_s:6.1f} s")
    print(f"  deformation.nrrd:                         {deformation_mb:6.1f} MB")
    del clean


if __name__ == "__main__":
    main()
