"""`ipv2 simulate`'s work: a simulated low-dose scan of a CT volume (`ipv2.simulate`), written
on the input's grid."""

from __future__ import annotations

import time
from pathlib import Path

from ipv2.input_checks import require_ct
from ipv2.io.volumes import read_volume, write_volume
from ipv2.progress import MonitorFactory
from ipv2.simulate import LowDoseSettings, simulate_low_dose


def simulate_scan(
    input: str,
    out: Path,
    open_monitor: MonitorFactory,
    *,
    dose: float,
    mode: str,
    input_dose: float | None,
    kernel: str,
    electronic_noise: bool,
    seed: int,
    device: str,
) -> dict:
    """The CT volume `input` (in HU) scanned again at `dose` and written to `out`; what was
    made, for the run's summary."""
    volume = read_volume(input)
    require_ct(volume, f"--in {input}")
    started = time.perf_counter()
    with open_monitor() as monitor:
        settings = LowDoseSettings(
            dose=dose,
            mode=mode,
            pixel_spacing_mm=volume.pixel_spacing_mm,
            seed=seed,
            electronic_noise=electronic_noise,
            input_dose=input_dose,
            kernel=kernel,
        )
        noisy = simulate_low_dose(volume.array, settings, device=device, monitor=monitor, name=f"--in {input}")
    write_volume(volume.with_array(noisy), out)
    return {
        "output": str(out),
        "mode": mode,
        "dose": dose,
        "kernel": kernel,
        "seed": seed,
        "slices": int(noisy.shape[0]),
        "seconds": round(time.perf_counter() - started, 3),
    }
