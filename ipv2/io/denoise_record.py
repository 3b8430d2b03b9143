"""The account file written beside a denoised scan, and the table of a folder run's accounts.

`<name>.denoise.json` sits beside the result `<name>.<suffix>` (or the derived series folder
`<name>`): what denoised it, with which strength, the noise measured in the input, the
acquisition as the DICOM headers state it, the time taken, and the figures of
`ipv2.evaluate.denoise_account`. A folder run also keeps `denoise_accounts.csv`, one row per
scan with an account in the folder, rebuilt after each run.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ipv2.io.atomic import atomic_output_path
from ipv2.io.suffixes import volume_suffix

ACCOUNT_SUFFIX = ".denoise.json"
SUMMARY_FILE = "denoise_accounts.csv"
SUMMARY_COLUMNS = (
    "scan",
    "model",
    "strength",
    "measured_noise_hu",
    "seconds",
    "soft_tissue_noise_before_hu",
    "soft_tissue_noise_after_hu",
    "lung_noise_before_hu",
    "lung_noise_after_hu",
    "soft_tissue_lesion_noise_before_hu",
    "soft_tissue_lesion_noise_after_hu",
    "texture_ratio",
    "flagged_slices",
    "warning",
)
# DICOM keyword -> account key, for the acquisition a reader wants beside the figures.
ACQUISITION_TAGS = {
    "KVP": "kvp",
    "Exposure": "exposure_mas",
    "CTDIvol": "ctdi_vol_mgy",
    "ConvolutionKernel": "kernel",
    "Manufacturer": "manufacturer",
    "SliceThickness": "slice_mm",
}


def account_path(result: Path) -> Path:
    """`<name>.denoise.json` beside the result file or series folder `result`."""
    result = Path(result)
    suffix = volume_suffix(result)
    name = result.name[: -len(suffix)] if suffix is not None else result.name
    return result.with_name(name + ACCOUNT_SUFFIX)


def _plain(value: Any) -> float | str:
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(item) for item in value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def acquisition_of(dicom_files: Sequence[str] | None) -> dict[str, float | str]:
    """The acquisition the first file of a DICOM series states (empty for other inputs or
    where the header cannot be read: the account is a record, not a check)."""
    if not dicom_files:
        return {}
    import pydicom

    try:
        header = pydicom.dcmread(str(dicom_files[0]), stop_before_pixels=True)
    except Exception:  # a series read a moment ago; an unreadable header only costs these fields
        return {}
    return {
        key: _plain(header.get(keyword))
        for keyword, key in ACQUISITION_TAGS.items()
        if header.get(keyword) not in (None, "")
    }


def account_comment(account: dict[str, Any] | None) -> str:
    """The account's key figures in one line, for a derived series' ImageComments."""
    if not account:
        return ""
    parts = [f"IPv2 {account.get('model', '')}"]
    for name, label in (("soft_tissue", "soft tissue"), ("lung", "lung")):
        figures = account.get("regions", {}).get(name, {})
        if figures.get("noise_before_hu") is not None and figures.get("noise_after_hu") is not None:
            parts.append(f"{label} noise {figures['noise_before_hu']:g} -> {figures['noise_after_hu']:g} HU")
    ratio = account.get("texture", {}).get("ratio")
    if ratio is not None:
        parts.append(f"NPS mean frequency x{ratio:g}")
    check = account.get("structure_check", {})
    flagged = check.get("flagged_slices") or []
    parts.append(f"structure check: {len(flagged)} slice(s) flagged" if flagged else "structure check: passed")
    return "; ".join(parts)


def write_account(path: Path, account: dict[str, Any]) -> Path:
    with atomic_output_path(path) as tmp:
        tmp.write_text(json.dumps(account, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _row(scan: str, account: dict[str, Any]) -> dict[str, Any]:
    regions = account.get("regions", {})

    def region(name: str, key: str) -> Any:
        return regions.get(name, {}).get(key)

    check = account.get("structure_check", {})
    return {
        "scan": scan,
        "model": account.get("model"),
        "strength": account.get("strength"),
        "measured_noise_hu": account.get("measured_noise_hu"),
        "seconds": account.get("seconds"),
        "soft_tissue_noise_before_hu": region("soft_tissue", "noise_before_hu"),
        "soft_tissue_noise_after_hu": region("soft_tissue", "noise_after_hu"),
        "lung_noise_before_hu": region("lung", "noise_before_hu"),
        "lung_noise_after_hu": region("lung", "noise_after_hu"),
        "soft_tissue_lesion_noise_before_hu": region("soft_tissue", "lesion_noise_before_hu"),
        "soft_tissue_lesion_noise_after_hu": region("soft_tissue", "lesion_noise_after_hu"),
        "texture_ratio": account.get("texture", {}).get("ratio"),
        "flagged_slices": " ".join(str(z) for z in check.get("flagged_slices", [])),
        "warning": check.get("warning") or "",
    }


def write_summary(folder: Path) -> Path | None:
    """`denoise_accounts.csv` from every account in `folder`; None when there is none."""
    folder = Path(folder)
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*" + ACCOUNT_SUFFIX)):
        try:
            account = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append(_row(path.name[: -len(ACCOUNT_SUFFIX)], account))
    if not rows:
        return None
    destination = folder / SUMMARY_FILE
    with atomic_output_path(destination) as tmp:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=SUMMARY_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    return destination
