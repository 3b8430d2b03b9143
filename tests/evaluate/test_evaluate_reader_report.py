import json

import numpy as np
import pytest
from scipy import ndimage

from ipv2.evaluate import evaluate_volumes, report_figure, write_report
from ipv2.services.evaluate import summary_table
from ipv2.volume import Volume

SPACING_XYZ = (0.7, 0.7, 2.0)


def _chest(shape=(3, 192, 128), seed=0):
    """Air above a body; two lungs with vessels (discs 600 HU above the parenchyma), small
    soft-tissue structures (60 HU above fat) in fat below the lungs, and flat muscle."""
    depth, rows, columns = shape
    yy, xx = np.mgrid[0:rows, 0:columns]
    image = np.full((rows, columns), -1000.0)
    image[64:] = 40.0
    lungs = (yy >= 80) & (yy < 140) & (((xx >= 8) & (xx < 56)) | ((xx >= 72) & (xx < 120)))
    image[lungs] = -850.0
    for cy in range(88, 136, 12):
        for cx in list(range(14, 56, 12)) + list(range(78, 120, 12)):
            image[(yy - cy) ** 2 + (xx - cx) ** 2 <= 4] = -250.0
    image[(yy >= 140) & (xx < 40)] = -80.0
    for cy in (152, 164, 176):
        for cx in (8, 20, 32):
            image[(yy - cy) ** 2 + (xx - cx) ** 2 <= 6] = 0.0
    labels = np.zeros((rows, columns), dtype=np.uint8)
    labels[image < -500] = 2  # the lung mask, with holes at the vessels
    labels[:64] = 1
    clean = np.repeat(image[None], depth, axis=0)
    noise = np.random.default_rng(seed).normal(0, 5, clean.shape)
    return clean + noise, np.repeat(labels[None], depth, axis=0)


def test_reader_figures_score_a_copy_perfectly_and_see_blur_and_noise(tmp_path):
    label, labels = _chest()
    rng = np.random.default_rng(1)
    noisy = label + rng.normal(0, 60, label.shape)
    blurred = ndimage.gaussian_filter(label, sigma=(0, 1.5, 1.5))

    def volume(array):
        return Volume(array.astype(np.float32), spacing=SPACING_XYZ)

    report = evaluate_volumes(volume(blurred), volume(label), labels, truth=volume(label), input=volume(noisy))

    comparisons = {"prediction_vs_label", "prediction_vs_truth", "input_vs_label", "input_vs_truth"}
    assert set(report["ssim_windowed"]) == comparisons == set(report["structure_contrast"])
    for name in comparisons:
        assert set(report["ssim_windowed"][name]) == {"lung", "soft"}
        assert set(report["structure_contrast"][name]) == {"lung_vessels", "soft_tissue"}
    for kind in ("lung_vessels", "soft_tissue"):
        assert report["structure"]["label"][kind]["pixels"] > 0
        # The truth here is the label itself: its own retention is 1, noise keeps it, blur loses it.
        assert report["structure_contrast"]["input_vs_truth"][kind] == pytest.approx(1.0, abs=0.1)
        assert report["structure_contrast"]["prediction_vs_label"][kind] < 0.8
    assert report["structure"]["label"]["lung_vessels"]["contrast_hu"] == pytest.approx(600.0, rel=0.05)
    for window in ("lung", "soft"):
        assert report["ssim_windowed"]["input_vs_label"][window] < 0.95
        assert report["ssim_windowed"]["prediction_vs_label"][window] < 1.0

    assert report["nps_rois_flat_in"] == "truth"
    assert set(report["nps"]) == {"prediction", "label", "truth", "input"}
    for image in report["nps"].values():
        assert set(image) == {"background", "lung", "soft_tissue"}
    for region in ("background", "soft_tissue"):
        noisy_nps, smooth_nps = report["nps"]["input"][region], report["nps"]["prediction"][region]
        assert set(noisy_nps) >= {
            "frequencies_cycles_per_mm",
            "nps",
            "variance_hu2",
            "peak_cycles_per_mm",
            "mean_cycles_per_mm",
            "band_power",
        }
        assert noisy_nps["variance_hu2"] == pytest.approx(60**2 + 5**2, rel=0.15)
        assert smooth_nps["mean_cycles_per_mm"] < noisy_nps["mean_cycles_per_mm"]
        assert report["nps"]["label"][region]["variance_hu2"] == pytest.approx(25.0, rel=0.3)

    loaded = json.loads(write_report(report, tmp_path / "report.json").read_text())
    assert loaded["nps"]["input"]["soft_tissue"]["band_power"]["high"] > 0.5

    lines = summary_table(report).splitlines()
    kept = lines[next(i for i, line in enumerate(lines) if line.startswith("reader figures")) + 1]
    assert kept.startswith("prediction_vs_label")
    assert [float(value) for value in kept.split()[1:]] == pytest.approx(
        [
            report["structure_contrast"]["prediction_vs_label"]["lung_vessels"],
            report["structure_contrast"]["prediction_vs_label"]["soft_tissue"],
            report["ssim_windowed"]["prediction_vs_label"]["lung"],
            report["ssim_windowed"]["prediction_vs_label"]["soft"],
        ],
        abs=1e-3,
    )
    assert any(line.split()[:2] == ["input", "soft_tissue"] for line in lines)

    figure = report_figure(blurred, label, labels, report, input=noisy, truth=label, slices=[1])
    titles = [axis.get_title() for axis in figure.axes]
    assert any(title.startswith("what a reader sees") for title in titles)
    nps_axis = next(axis for axis in figure.axes if axis.get_title().startswith("noise power spectrum"))
    labels_drawn = [line.get_label() for line in nps_axis.get_lines()]
    assert any(text.startswith("input · soft tissue") for text in labels_drawn)
    assert any(text.startswith("output · soft tissue") for text in labels_drawn)


def test_without_structures_or_flat_regions_the_figures_are_null():
    label, labels = _chest(shape=(2, 64, 64))
    flat = np.where(labels == 2, -850.0, np.where(labels == 1, -1000.0, 40.0))
    flat = flat + np.random.default_rng(2).normal(0, 5, flat.shape)
    report = evaluate_volumes(flat, flat, labels)
    assert report["nps_rois_flat_in"] == "label"
    assert report["structure_contrast"]["prediction_vs_label"] == {"lung_vessels": None, "soft_tissue": None}
    assert report["structure"]["label"]["lung_vessels"] == {"pixels": 0, "contrast_hu": None}
    assert report["nps"]["prediction"]["lung"] is None  # no 32 x 32 flat patch of lung in 64 x 64
    figure = report_figure(flat, flat, labels, report, slices=[0])
    assert any(axis.get_title().startswith("noise power spectrum") for axis in figure.axes)
