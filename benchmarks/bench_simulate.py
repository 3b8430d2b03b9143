"""Times the low-dose simulator against the authors' per-slice scikit-image path.

Both run the seed-mode formula on the same synthetic chest-like 512x512 slices in HU (a body
with lungs, vessels, spine and ribs inside a circular field of view padded with -1024 HU):
scikit-image's radon, Poisson plus Gaussian noise, iradon with a Hann filter, max(H, W)
angles, one slice at a time; ours batched, on those slices repeated to a volume of
`--volume-slices` (as a CT volume is simulated in one call; the first call, which plans the
FFTs, is reported apart). Also reported: ours against scikit-image on the
same noiseless data (FBP of scikit-image's sinogram, and the projection itself), the noise of
both paths in soft tissue, and the physical mode's time. Prints a table, then as its last
line one JSON object.

    python benchmarks/bench_simulate.py [--slices 3] [--volume-slices 64] [--size 512] [--repeat 3] [--direct]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

from ipv2.simulate import LowDoseSettings, simulate_low_dose
from ipv2.simulate.geometry import ParallelBeamGeometry
from ipv2.simulate.projectors import make_projector
from ipv2.simulate.reference import authors_seed_slice, skimage_fbp, skimage_radon


def chest_slices(size: int, count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    fov = yy**2 + xx**2 <= 0.5**2
    body = (yy / 0.34) ** 2 + (xx / 0.45) ** 2 <= 1
    spine = ((yy - 0.22) / 0.06) ** 2 + (xx / 0.05) ** 2 <= 1
    slices = np.empty((count, size, size), dtype=np.float32)
    for z in range(count):
        image = np.full((size, size), -1000.0, dtype=np.float32)
        image[body] = 40.0
        for side in (-1, 1):
            lung = ((yy + 0.02) / (0.24 + 0.01 * z)) ** 2 + ((xx - side * 0.2) / 0.15) ** 2 <= 1
            image[lung] = -860.0
            for _ in range(25):
                cy, cx = rng.uniform(-0.18, 0.15), side * 0.2 + rng.uniform(-0.1, 0.1)
                vessel = (yy - cy) ** 2 + (xx - cx) ** 2 <= rng.uniform(0.002, 0.008) ** 2
                image[vessel & lung] = 30.0
        image[spine] = 700.0
        angles = np.linspace(0.15, np.pi - 0.15, 9)
        for angle in angles:
            rib = (yy - 0.32 * np.cos(angle) * 0.95) ** 2 + (xx - 0.43 * np.sin(angle - np.pi / 2)) ** 2 <= 0.012**2
            image[rib & body] = 500.0
        image += rng.normal(0.0, 8.0, image.shape).astype(np.float32)
        # Padding is the slice minimum, as on scanners, so normalised slices are zero outside the FOV.
        image = np.maximum(image, -1020.0)
        image[~fov] = -1024.0
        slices[z] = image
    return slices


def relative_l2(ours: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> float:
    return float(np.linalg.norm(ours[mask] - reference[mask]) / np.linalg.norm(reference[mask]))


def time_skimage(slices: np.ndarray, dose: float) -> tuple:
    rng = np.random.default_rng(0)
    outputs = []
    started = time.perf_counter()
    for image in slices.astype(np.float64):
        lowest, highest = image.min(), image.max()
        noisy = authors_seed_slice((image - lowest) / (highest - lowest), rng, dose=dose)
        outputs.append(noisy * (highest - lowest) + lowest)
    return (time.perf_counter() - started) / len(slices), np.array(outputs, dtype=np.float32)


def time_ours(slices: np.ndarray, repeat: int, settings: LowDoseSettings, **kwargs) -> tuple:
    """Seconds per slice of the first call (plans included) and the mean of the repeats after it."""
    started = time.perf_counter()
    output = simulate_low_dose(slices, settings, **kwargs)
    first = time.perf_counter() - started
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        output = simulate_low_dose(slices, settings, **kwargs)
        warm.append(time.perf_counter() - started)
    steady = float(np.mean(warm)) if warm else first
    return first / len(slices), steady / len(slices), output


def noiseless_agreement(image: np.ndarray, device: torch.device) -> dict:
    geometry = ParallelBeamGeometry.like_authors(image.shape[0])
    projector = make_projector(geometry, device)
    normalised = (image - image.min()) / (image.max() - image.min())
    sinogram = skimage_radon(normalised.astype(np.float64))
    reference = skimage_fbp(sinogram, image.shape[0])
    ours_fbp = projector.fbp(torch.tensor(sinogram.T[None], dtype=torch.float32)).cpu().numpy()[0]
    ours_radon = projector.forward(torch.tensor(normalised[None], dtype=torch.float32)).cpu().numpy()[0].T
    inside = ~geometry.outside_circle
    return {
        "fbp_rel_err": relative_l2(ours_fbp, reference, inside),
        "radon_rel_err": relative_l2(ours_radon, sinogram, np.ones_like(sinogram, dtype=bool)),
        "projector": projector.name,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=3, help="distinct slices, each run through both paths")
    parser.add_argument(
        "--volume-slices", type=int, default=64, help="ours runs on the slices repeated to a volume this deep"
    )
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--dose", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=3, help="timed repeats of ours after the first call (averaged)")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--direct", action="store_true", help="also time the rotate-and-sum torch projector on this device"
    )
    args = parser.parse_args()

    slices = chest_slices(args.size, args.slices)
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    skimage_s, skimage_out = time_skimage(slices, args.dose)
    volume = slices[np.arange(max(args.volume_slices, args.slices)) % args.slices]
    first_s, ours_s, ours_volume = time_ours(
        volume, args.repeat, LowDoseSettings(mode="seed", dose=args.dose, seed=0), device=str(device)
    )
    ours_out = ours_volume[: args.slices]
    _, physical_s, _ = time_ours(
        volume,
        args.repeat,
        LowDoseSettings(mode="physical", dose=args.dose, seed=0, pixel_spacing_mm=0.7),
        device=str(device),
    )
    agreement = noiseless_agreement(slices[0], device)
    direct_s = None
    if args.direct:
        _, direct_s, _ = time_ours(
            slices, 0, LowDoseSettings(mode="seed", dose=args.dose, seed=0), device=str(device), projector="direct"
        )  # on the distinct slices only: it is slow on a CPU

    tissue = (slices > 0) & (slices < 100)
    skimage_noise = float(np.std((skimage_out - slices)[tissue]))
    ours_noise = float(np.std((ours_out - slices)[tissue]))
    result = {
        "slices": args.slices,
        "volume_slices": len(volume),
        "size": args.size,
        "dose": args.dose,
        "device": str(device),
        "projector": agreement["projector"],
        "torch_threads": torch.get_num_threads(),
        "skimage_s_per_slice": round(skimage_s, 4),
        "ipv2_s_per_slice": round(ours_s, 4),
        "ipv2_first_call_s_per_slice": round(first_s, 4),
        "speedup": round(skimage_s / ours_s, 1),
        "ipv2_physical_s_per_slice": round(physical_s, 4),
        "ipv2_direct_s_per_slice": None if direct_s is None else round(direct_s, 4),
        "fbp_rel_err": round(agreement["fbp_rel_err"], 5),
        "radon_rel_err": round(agreement["radon_rel_err"], 5),
        "skimage_noise_hu": round(skimage_noise, 2),
        "ipv2_noise_hu": round(ours_noise, 2),
        "machine": platform.machine(),
    }
    print(f"{'path':<34}{'s/slice':>10}")
    print(f"{'scikit-image (authors, per slice)':<34}{skimage_s:>10.3f}")
    print(f"{'ipv2 seed mode (' + result['projector'] + ')':<34}{ours_s:>10.4f}   ({skimage_s / ours_s:.1f}x)")
    print(f"{'ipv2 seed mode, first call':<34}{first_s:>10.4f}")
    print(f"{'ipv2 physical mode':<34}{physical_s:>10.4f}")
    if direct_s is not None:
        print(f"{'ipv2 seed mode (direct projector)':<34}{direct_s:>10.4f}   ({skimage_s / direct_s:.1f}x)")
    print(
        f"FBP of the same sinogram vs scikit-image: relative L2 {agreement['fbp_rel_err']:.2e}; "
        f"projection {agreement['radon_rel_err']:.2e}"
    )
    print(f"noise in soft tissue: scikit-image {skimage_noise:.1f} HU, ipv2 {ours_noise:.1f} HU")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
