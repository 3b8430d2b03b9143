"""A figure of a few slices of the pair and its truth, in lung and mediastinal windows."""

from __future__ import annotations

import numpy as np

from ipv2.display import LUNG_WINDOW, MEDIASTINAL_WINDOW
from ipv2.phantom.tissues import LABEL_NAMES, LABEL_OTHER_GAS, LABEL_TUMOUR

# By label id; ids past the table take its last colour.
LABEL_COLOURS = np.array(
    [
        [0.55, 0.45, 0.40],
        [0.0, 0.0, 0.0],
        [0.35, 0.6, 0.95],
        [0.9, 0.2, 0.2],
        [1.0, 0.85, 0.1],
        [0.2, 0.85, 0.4],
        [0.6, 0.2, 0.8],
        [1.0, 0.5, 0.0],
    ]
)


def preview_slices(labels: np.ndarray) -> list:
    """Slice indices of the figure's rows, top of the chest first (index 0 is the lowest).

    The upper chest at 85% of the way up the slab; then the slice with the largest cross
    section of the tumour and the one with the most other gas (stomach, colon), so the figure
    shows the structures that only those labels mark; where the pair has no tumour, the middle
    slice, and where it has no other gas, the slice at 15%. A slice chosen twice is one row.
    """
    top = labels.shape[0] - 1
    rows = {int(round(0.85 * top))}
    for label, fraction in ((LABEL_TUMOUR, 0.5), (LABEL_OTHER_GAS, 0.15)):
        area = (labels == label).sum(axis=(1, 2))
        rows.add(int(np.argmax(area)) if area.any() else int(round(fraction * top)))
    return sorted(rows, reverse=True)


def acquisition_caption(parameters: dict) -> str:
    """One line naming the acquisition of a pair from its `parameters`, e.g.
    "kernel standard | uLDCT 2% dose | 512 x 512 of 0.70 mm, FOV 358 mm | 48 slices 2.5 mm apart, centre plane"."""
    p = parameters or {}
    parts = [f"variant {p['variant']}"] if p.get("variant") else []
    if "kernel" in p:
        parts.append(f"kernel {p['kernel']}")
    if "dose" in p:
        parts.append(f"uLDCT {100 * p['dose']:g}% dose" if p.get("noise", True) else "no noise")
    if "pixel_mm" in p and "size" in p:
        fov = p.get("fov_mm", p["size"] * p["pixel_mm"])
        parts.append(f"{p['size']} x {p['size']} of {p['pixel_mm']:.2f} mm, FOV {fov:.0f} mm")
    if p.get("crop_fov_mm"):
        matrix = p.get("matrix", [0, 0, 0])
        parts.append(f"cropped to {p['crop_fov_mm']:.0f} mm ({matrix[2]} x {matrix[1]})")
    if "slice_mm" in p and "slices" in p:
        thickness = p.get("thickness_mm")
        profile = "centre plane" if thickness is None else f"{thickness:g} mm thick"
        parts.append(f"{p['slices']} slices {p['slice_mm']:g} mm apart, {profile}")
    if p.get("fov_padding"):
        parts.append(f"padded outside the FOV circle ({p.get('padding_hu', -2048):g} HU)")
    if p.get("tumour") is False:
        parts.append("no tumour")
    return " | ".join(parts)


def _label_legend(figure, y: float) -> None:
    """One row under the panels: a swatch of each label's colour and its id and name."""
    from matplotlib.patches import Patch

    handles = [
        Patch(
            facecolor=LABEL_COLOURS[min(label, len(LABEL_COLOURS) - 1)],
            edgecolor="white",
            linewidth=0.3,
            label=f"{label} {name}",
        )
        for label, name in sorted(LABEL_NAMES.items())
    ]
    figure.legend(
        handles=handles,
        loc="center",
        bbox_to_anchor=(0.5, y),
        ncol=len(handles),
        frameon=False,
        fontsize=8,
        labelcolor="white",
        handlelength=1.2,
        columnspacing=1.5,
    )


def render_preview(pair, path, dpi: int = 72) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    columns = [
        ("NDCT", pair.ndct.array, LUNG_WINDOW),
        ("uLDCT", pair.uldct.array, LUNG_WINDOW),
        ("truth", pair.truth.array, LUNG_WINDOW),
        ("NDCT", pair.ndct.array, MEDIASTINAL_WINDOW),
        ("uLDCT", pair.uldct.array, MEDIASTINAL_WINDOW),
        ("truth", pair.truth.array, MEDIASTINAL_WINDOW),
    ]
    rows = preview_slices(pair.labels.array)
    panel = 2.4
    caption = acquisition_caption(pair.parameters)
    margin = 0.8 if caption else 0.5  # inches above the panels: column titles, and the caption
    legend = 0.3  # inches below the panels: the label colours
    height = panel * len(rows) + margin + legend
    figure = Figure(figsize=(panel * (len(columns) + 1), height), facecolor="black")
    axes = figure.subplots(len(rows), len(columns) + 1, squeeze=False)
    for r, index in enumerate(rows):
        for c, (title, array, window) in enumerate(columns):
            axes[r, c].imshow(array[index], cmap="gray", vmin=window.low, vmax=window.high, interpolation="nearest")
            if r == 0:
                axes[r, c].set_title(f"{title}, {window.name}", color="white", fontsize=9)
        colour_ids = np.minimum(pair.labels.array[index].astype(int), len(LABEL_COLOURS) - 1)
        axes[r, -1].imshow(LABEL_COLOURS[colour_ids], interpolation="nearest")
        if r == 0:
            axes[r, -1].set_title("labels", color="white", fontsize=9)
        axes[r, 0].text(
            -0.04,
            0.5,
            f"slice {index}",
            color="white",
            fontsize=8,
            rotation=90,
            transform=axes[r, 0].transAxes,
            ha="right",
            va="center",
        )
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
        for spine in axis.spines.values():
            spine.set_visible(False)
    if caption:
        figure.suptitle(caption, color="white", fontsize=9, y=1.0 - 0.08 / height, va="top")
    _label_legend(figure, y=0.5 * legend / height)
    figure.subplots_adjust(
        left=0.02, right=0.995, top=1.0 - (margin - 0.05) / height, bottom=legend / height, wspace=0.02, hspace=0.02
    )
    figure.savefig(str(path), dpi=dpi, facecolor="black")
