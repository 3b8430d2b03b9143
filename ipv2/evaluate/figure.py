"""The visual report: chosen slices in lung and mediastinal windows, the regions, the
differences, bar charts of the region figures and of what a reader sees (small-structure
contrast kept, SSIM in the display windows), and the noise power spectra. Drawn with
matplotlib's Agg canvas (no display needed)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ipv2.display import LUNG_WINDOW, MEDIASTINAL_WINDOW
from ipv2.errors import InputError
from ipv2.evaluate.report import REGION_LABELS
from ipv2.io.atomic import atomic_output_path

DIFFERENCE_LIMIT_HU = 300.0
REGION_COLOURS = {"background": (0.15, 0.45, 0.95, 0.45), "lung": (1.0, 0.55, 0.0, 0.45)}
BAR_REGIONS = ("background", "lung", "body", "overall")
COMPARISON_NAMES = {
    "input_vs_label": "input vs label",
    "prediction_vs_label": "output vs label",
    "input_vs_truth": "input vs truth",
    "prediction_vs_truth": "output vs truth",
}
NOISE_IMAGES = ("input", "prediction", "label", "truth")
NOISE_REGIONS = ("background", "lung", "soft_tissue")
READER_FIGURES = (  # (report section, key, bar label)
    ("structure_contrast", "lung_vessels", "lung vessel\ncontrast kept"),
    ("structure_contrast", "soft_tissue", "soft-tissue\ncontrast kept"),
    ("ssim_windowed", "lung", "SSIM in\nlung window"),
    ("ssim_windowed", "soft", "SSIM in\nsoft window"),
)
NPS_REGION_STYLES = {"soft_tissue": "-", "lung": "--"}
PANEL_INCHES = 2.7


def default_slices(labelmap: np.ndarray, count: int = 1) -> list[int]:
    """The slice with the most lung, then others spread evenly over the slices with lung."""
    labelmap = np.asarray(labelmap)
    lung_area = (labelmap == REGION_LABELS["lung"]).reshape(len(labelmap), -1).sum(axis=1)
    with_lung = np.flatnonzero(lung_area) if lung_area.any() else np.arange(len(labelmap))
    chosen = [int(np.argmax(lung_area))]
    for index in np.linspace(0, len(with_lung) - 1, num=max(count, 1) + 1).round().astype(int):
        if len(chosen) >= count:
            break
        if int(with_lung[index]) not in chosen:
            chosen.append(int(with_lung[index]))
    return sorted(chosen[: max(count, 1)])


def parse_slices(text: str, depth: int) -> list[int]:
    """'3,10,-1' to slice indices (negative counts from the end), each checked."""
    slices = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            index = int(item)
        except ValueError:
            raise InputError(f"--slices: '{item}' is not a slice number; give numbers separated by commas") from None
        if not -depth <= index < depth:
            raise InputError(f"--slices: slice {index} is outside the volume's {depth} slices (0..{depth - 1})")
        slices.append(index % depth)
    if not slices:
        raise InputError("--slices: no slice numbers given")
    return slices


def _show(axis, image, title: str, aspect: float, **style) -> None:
    axis.imshow(image, aspect=aspect, interpolation="nearest", **style)
    axis.set_title(title, fontsize=8)
    axis.set_xticks([])
    axis.set_yticks([])


def _region_overlay(labels: np.ndarray) -> np.ndarray:
    overlay = np.zeros(labels.shape + (4,), dtype=float)
    for region, colour in REGION_COLOURS.items():
        overlay[labels == REGION_LABELS[region]] = colour
    return overlay


def _bar_chart(
    axis,
    groups: dict[str, dict[str, float | None]],
    categories: Sequence[str],
    title: str,
    ylabel: str,
    value_format: str = "%.0f",
) -> None:
    names = [name for name in groups if any(groups[name].get(c) is not None for c in categories)]
    width = 0.8 / max(len(names), 1)
    positions = np.arange(len(categories))
    for offset, name in enumerate(names):
        values = [groups[name].get(category) for category in categories]
        heights = [np.nan if value is None or not np.isfinite(value) else value for value in values]
        bars = axis.bar(positions + (offset - (len(names) - 1) / 2) * width, heights, width, label=name)
        axis.bar_label(bars, fmt=value_format, fontsize=6, padding=1)
    axis.set_xticks(positions, [category.replace("_", " ") for category in categories], fontsize=8)
    axis.set_ylabel(ylabel, fontsize=8)
    axis.set_title(title, fontsize=9)
    axis.tick_params(axis="y", labelsize=7)
    if names:
        axis.legend(fontsize=7, frameon=False)


def _reader_groups(report: dict) -> dict[str, dict[str, float | None]]:
    groups = {}
    for comparison in report.get("fidelity", {}):
        groups[COMPARISON_NAMES.get(comparison, comparison)] = {
            label: report.get(section, {}).get(comparison, {}).get(key) for section, key, label in READER_FIGURES
        }
    return groups


def _nps_chart(axis, spectra: dict[str, dict[str, dict | None]]) -> None:
    """1D NPS curves (log scale, zero frequency left out), one colour per image, one line
    style per flat region; the legend gives each curve's mean frequency."""
    present = [name for name in NOISE_IMAGES if spectra.get(name)]
    drawn = 0
    for colour, name in enumerate(present):
        for region, style in NPS_REGION_STYLES.items():
            figures = spectra[name].get(region)
            if not figures:
                continue
            frequencies = np.asarray(figures["frequencies_cycles_per_mm"])[1:]
            power = np.asarray(figures["nps"])[1:]
            shown = "output" if name == "prediction" else name
            axis.semilogy(
                frequencies,
                np.maximum(power, 1e-6),
                style,
                color=f"C{colour}",
                linewidth=1.2,
                label=f"{shown} · {region.replace('_', ' ')} · mean {figures['mean_cycles_per_mm']:.2f}",
            )
            drawn += 1
    axis.set_title("noise power spectrum in flat regions", fontsize=9)
    axis.set_xlabel("spatial frequency (cycles/mm)", fontsize=8)
    axis.set_ylabel("NPS (HU² mm²)", fontsize=8)
    axis.tick_params(labelsize=7)
    if drawn:
        axis.legend(fontsize=6, frameon=False)
    else:
        axis.text(0.5, 0.5, "no flat ROI in the label", ha="center", va="center", fontsize=8, transform=axis.transAxes)


def report_figure(
    prediction: np.ndarray,
    label: np.ndarray,
    masks_labelmap: np.ndarray,
    report: dict | None = None,
    *,
    input: np.ndarray | None = None,
    truth: np.ndarray | None = None,
    slices: Sequence[int] | None = None,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    title: str = "",
) -> Figure:
    """A figure with two rows per slice (lung and mediastinal windows) and a row of charts.

    Panels in each slice row: the input (if given), the output, the label, the truth (if
    given), then the regions over the label and the output minus the label (lung row), and
    the input minus the output and the output minus the truth (mediastinal row), where the
    needed images exist. The charts show RMSE per region and noise per uniform region from
    `report` (as made by `evaluate_volumes`), and, where the report has them, a second row:
    small-structure contrast kept and windowed SSIM per comparison, and the NPS curves.
    """
    prediction = np.asarray(prediction)
    label = np.asarray(label)
    labelmap = np.asarray(masks_labelmap)
    if slices is None:
        slices = default_slices(labelmap)
    images = [
        (name, image)
        for name, image in (("input", input), ("output", prediction), ("label", label), ("truth", truth))
        if image is not None
    ]
    columns = len(images) + 2
    report = report or {}  # no report: no chart rows
    reader_row = any(key in report for key in ("structure_contrast", "ssim_windowed", "nps"))
    chart_rows = (1 if report else 0) + (1 if reader_row else 0)
    rows = 2 * len(slices) + chart_rows
    aspect = float(spacing[1]) / float(spacing[0])
    figure = Figure(figsize=(PANEL_INCHES * columns, PANEL_INCHES * rows), dpi=110, layout="constrained")
    grid = figure.add_gridspec(rows, columns)
    difference_style = {"cmap": "RdBu_r", "vmin": -DIFFERENCE_LIMIT_HU, "vmax": DIFFERENCE_LIMIT_HU}

    for slice_number, z in enumerate(slices):
        for window_row, window in enumerate((LUNG_WINDOW, MEDIASTINAL_WINDOW)):
            row = 2 * slice_number + window_row
            for column, (name, image) in enumerate(images):
                _show(
                    figure.add_subplot(grid[row, column]),
                    window.normalised(image[z]),
                    f"{name} · {window.label} · z={z}",
                    aspect,
                    cmap="gray",
                    vmin=0,
                    vmax=1,
                )
            extra = [figure.add_subplot(grid[row, len(images) + k]) for k in range(2)]
            if window is LUNG_WINDOW:
                _show(
                    extra[0],
                    window.normalised(label[z]),
                    f"regions over label · z={z}",
                    aspect,
                    cmap="gray",
                    vmin=0,
                    vmax=1,
                )
                extra[0].imshow(_region_overlay(labelmap[z]), aspect=aspect, interpolation="nearest")
                legend = [Patch(color=colour, label=region) for region, colour in REGION_COLOURS.items()]
                extra[0].legend(handles=legend, fontsize=6, loc="lower right", frameon=False, labelcolor="white")
                _show(
                    extra[1],
                    prediction[z] - label[z],
                    f"output − label (±{DIFFERENCE_LIMIT_HU:g} HU) · z={z}",
                    aspect,
                    **difference_style,
                )
            else:
                if input is not None:
                    _show(
                        extra[0],
                        input[z] - prediction[z],
                        f"input − output: removed (±{DIFFERENCE_LIMIT_HU:g} HU) · z={z}",
                        aspect,
                        **difference_style,
                    )
                else:
                    extra[0].axis("off")
                if truth is not None:
                    _show(
                        extra[1],
                        prediction[z] - truth[z],
                        f"output − truth (±{DIFFERENCE_LIMIT_HU:g} HU) · z={z}",
                        aspect,
                        **difference_style,
                    )
                else:
                    extra[1].axis("off")

    if report:
        # A nested grid keeps the charts' axis labels from pushing the image columns apart.
        charts = grid[2 * len(slices), :].subgridspec(1, 2, wspace=0.08)
        rmse_groups = {
            COMPARISON_NAMES.get(name, name): {region: figures.get("rmse_hu") for region, figures in regions.items()}
            for name, regions in report.get("fidelity", {}).items()
        }
        _bar_chart(
            figure.add_subplot(charts[0, 0]),
            rmse_groups,
            BAR_REGIONS,
            f"RMSE per region (HU; PSNR/SSIM range: {report.get('data_range_hu', 0):g} HU)",
            "RMSE (HU)",
        )
        noise_groups = {
            ("output" if name == "prediction" else name): figures
            for name in NOISE_IMAGES
            for figures in [report.get("noise_std_hu", {}).get(name)]
            if figures
        }
        _bar_chart(
            figure.add_subplot(charts[0, 1]),
            noise_groups,
            NOISE_REGIONS,
            "noise std in uniform regions (HU)",
            "std (HU)",
        )
    if reader_row:
        reader_charts = grid[rows - 1, :].subgridspec(1, 2, wspace=0.08)
        reader_axis = figure.add_subplot(reader_charts[0, 0])
        _bar_chart(
            reader_axis,
            _reader_groups(report),
            [label for _, _, label in READER_FIGURES],
            "what a reader sees: small-structure contrast kept, SSIM in the display windows",
            "fraction",
            value_format="%.2f",
        )
        reader_axis.axhline(1.0, color="0.5", linewidth=0.8, linestyle=":")
        _nps_chart(figure.add_subplot(reader_charts[0, 1]), report.get("nps", {}))
    if title:
        figure.suptitle(title, fontsize=11)
    return figure


FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def require_figure_suffix(path: str | os.PathLike) -> None:
    if Path(path).suffix.lower() not in FIGURE_SUFFIXES:
        raise InputError(f"{path}: the figure is written as .png, .pdf or .svg")


def save_figure(figure: Figure, path: str | os.PathLike) -> Path:
    """Writes PNG, PDF or SVG (by suffix) atomically."""
    path = Path(path)
    require_figure_suffix(path)
    with atomic_output_path(path) as tmp:
        figure.savefig(tmp, format=path.suffix.lower().lstrip("."))
    return path
