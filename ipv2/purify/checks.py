"""Checks of a uLDCT/NDCT pair that warn rather than refuse."""

from __future__ import annotations

from ipv2.errors import InputError
from ipv2.volume import Volume


def swapped_pair_warning(lq: Volume, gt: Volume) -> str | None:
    """One line when the uLDCT measures less noise than the NDCT (`ipv2.denoise.classical.measure_sigma_hu`,
    the median over up to 16 slices of their flat soft tissue): the scans are most likely
    given the wrong way round, and purification would then take the noisy scan as the target.
    None when the order looks right or either level cannot be measured."""
    from ipv2.denoise.classical import measure_sigma_hu

    try:
        lq_sigma, gt_sigma = measure_sigma_hu(lq), measure_sigma_hu(gt)
    except InputError:
        return None
    if lq_sigma >= gt_sigma:
        return None
    return (
        f"the uLDCT (--lq) measures less noise ({lq_sigma:.1f} HU) than the NDCT (--gt, {gt_sigma:.1f} HU); "
        "are the two scans swapped?"
    )
