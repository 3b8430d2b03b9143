"""Evaluation of a denoised CT volume against the IPv2 label (and a true clean image).

`evaluate_volumes` gives RMSE, PSNR and SSIM overall and per region, and noise in uniform
regions, small-structure contrast retention, SSIM in the lung and soft-tissue windows and the
noise power spectrum of flat regions; `report_figure` draws them; `distribution_metrics` adds FID and KID when the
optional extra `fid` is installed.
"""

from ipv2.evaluate.distribution import FID_INSTALL_HINT, distribution_metrics, distribution_report, fid_available
from ipv2.evaluate.figure import report_figure, save_figure
from ipv2.evaluate.metrics import FIXED_DATA_RANGE_HU, psnr, rmse, ssim, ssim_map
from ipv2.evaluate.nps import noise_power_spectrum
from ipv2.evaluate.report import REGION_LABELS, evaluate_volumes, json_ready, write_report
from ipv2.evaluate.structure import contrast_retention
from ipv2.evaluate.windowed import windowed_ssim

__all__ = [
    "FID_INSTALL_HINT",
    "FIXED_DATA_RANGE_HU",
    "REGION_LABELS",
    "contrast_retention",
    "distribution_metrics",
    "distribution_report",
    "evaluate_volumes",
    "fid_available",
    "json_ready",
    "noise_power_spectrum",
    "psnr",
    "report_figure",
    "rmse",
    "save_figure",
    "ssim",
    "ssim_map",
    "windowed_ssim",
    "write_report",
]
