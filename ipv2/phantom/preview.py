"""A figure of a few slices of the pair and its truth, in lung and mediastinal windows."""

from __future__ import annotations

import numpy as np

from ipv2.display import LUNG_WINDOW, MEDIASTINAL_WINDOW

LABEL_COLOURS = np.array([[0.55, 0.45, 0.40], [0.0, 0.0, 0.0], [0.35, 0.6, 0.95], [0.9, 0.2, 0.2],
                          [1.0, 0.85, 0.1], [0.2, 0.85, 0.4], [0.6, 0.2, 0.8], [1.0, 0.5, 0.0]])


def preview_slices(slices: int, count: int = 3) -> list:
    """Upper, middle and lower slices, avoiding the very first and last."""
    return sorted({int(round(f * (slices - 1))) for f in np.linspace(0.15, 0.85, count)}, reverse=True)


def render_preview(pair, path, count: int = 3, dpi: int = 72) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    columns = [("NDCT", pair.ndct.array, LUNG_WINDOW), ("uLDCT", pair.uldct.array, LUNG_WINDOW),
               ("truth", pair.truth.array, LUNG_WINDOW), ("NDCT", pair.ndct.array, MEDIASTINAL_WINDOW),
               ("uLDCT", pair.uldct.array, MEDIASTINAL_WINDOW), ("truth", pair.truth.array, MEDIASTINAL_WINDOW)]
    rows = preview_slices(pair.truth.shape[0], count)
    panel = 2.4
    figure = Figure(figsize=(panel * (len(columns) + 1), panel * len(rows) + 0.5), facecolor="black")
    axes = figure.subplots(len(rows), len(columns) + 1, squeeze=False)
    for r, index in enumerate(rows):
        for c, (title, array, window) in enumerate(columns):
            axes[r, c].imshow(array[index], cmap="gray", vmin=window.low, vmax=window.high,
                              interpolation="nearest")
            if r == 0:
                axes[r, c].set_title(f"{title}, {window.name}", color="white", fontsize=9)
        axes[r, -1].imshow(LABEL_COLOURS[pair.labels.array[index].astype(int)], interpolation="nearest")
        if r == 0:
            axes[r, -1].set_title("labels", color="white", fontsize=9)
        axes[r, 0].text(-0.04, 0.5, f"slice {index}", color="white", fontsize=8, rotation=90,
                        transform=axes[r, 0].transAxes, ha="right", va="center")
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
        for spine in axis.spines.values():
            spine.set_visible(False)
    figure.subplots_adjust(left=0.02, right=0.995, top=0.93, bottom=0.005, wspace=0.02, hspace=0.02)
    figure.savefig(str(path), dpi=dpi, facecolor="black")
