"""The account `ipv2 denoise` writes beside a result, as a few lines for the panel's status area."""

MISSING = "-"
REGIONS = (("soft_tissue", "soft tissue"), ("lung", "lung"))


def _hu(value):
    return f"{value:.1f}" if isinstance(value, (int, float)) else MISSING


def accountLines(account):
    """Noise before -> after per region (pixel and lesion scale), the texture ratio and the
    structure check's verdict; figures the account lacks are shown as a dash."""
    if not account:
        return []
    lines = []
    regions = account.get("regions") or {}
    for key, name in REGIONS:
        region = regions.get(key) or {}
        lines.append(
            f"Noise in {name}: {_hu(region.get('noise_before_hu'))} -> {_hu(region.get('noise_after_hu'))} HU "
            f"(lesion scale {_hu(region.get('lesion_noise_before_hu'))} -> "
            f"{_hu(region.get('lesion_noise_after_hu'))} HU)"
        )
    ratio = (account.get("texture") or {}).get("ratio")
    texture = f"{ratio:.2f}" if isinstance(ratio, (int, float)) else MISSING
    lines.append(f"Texture (NPS mean frequency, after / before): {texture}")
    check = account.get("structure_check") or {}
    if check.get("warning"):
        flagged = ", ".join(str(z) for z in check.get("flagged_slices") or [])
        lines.append(f"Warning: {check['warning']} (slices {flagged}).")
    elif check:
        lines.append("Structure check: what was removed looks like noise on every slice measured.")
    return lines
