"""Time to generate and write the default phantom pair (512 x 512 x 48); prints figures.

Usage: python benchmarks/bench_phantom.py [--size 512] [--slices 48] [--device auto]
"""

import argparse
import tempfile
import time

from ipv2.phantom import generate_phantom_pair, write_phantom
from ipv2.progress import Monitor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--slices", type=int, default=48)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    stages = {}

    def record(stage, done, total):
        stages.setdefault(stage, [time.perf_counter(), None])[1] = time.perf_counter()

    start = time.perf_counter()
    clean = generate_phantom_pair(size=args.size, slices=args.slices, noise=False)
    anatomy_s = time.perf_counter() - start
    start = time.perf_counter()
    pair = generate_phantom_pair(size=args.size, slices=args.slices, device=args.device, monitor=Monitor(record))
    total_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        write_phantom(pair, out, png=False)
        write_s = time.perf_counter() - start
    print(f"phantom {args.slices}x{args.size}x{args.size}, spacing {pair.truth.spacing} mm, device {args.device}")
    print(f"  anatomy, both breathing states, no noise: {anatomy_s:6.1f} s")
    for stage, (first, last) in stages.items():
        print(f"  stage {stage!r}: {last - first:6.1f} s")
    print(f"  generate_phantom_pair with noise (total): {total_s:6.1f} s  (target < 60 s)")
    print(f"  write_phantom (5 NRRDs + preview):        {write_s:6.1f} s")
    del clean


if __name__ == "__main__":
    main()
