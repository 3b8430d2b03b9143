import numpy as np
import pytest

from ipv2.errors import InputError
from ipv2.evaluate import evaluate_volumes, report_figure, save_figure
from ipv2.evaluate.figure import default_slices, parse_slices
from ipv2.testing import chest_like


def _case():
    rng = np.random.default_rng(4)
    truth = chest_like((3, 40, 40), seed=1).astype(np.float32)
    labels = np.zeros(truth.shape, dtype=np.uint8)
    labels[truth < -950] = 1
    labels[(truth > -900) & (truth < -700)] = 2
    return (
        truth + rng.normal(0, 20, truth.shape),
        truth + rng.normal(0, 5, truth.shape),
        labels,
        truth,
        truth + rng.normal(0, 100, truth.shape),
    )


def test_full_figure_has_every_panel_in_both_windows_and_the_charts(tmp_path):
    prediction, label, labels, truth, noisy = _case()
    report = evaluate_volumes(prediction, label, labels, truth, input=noisy)
    figure = report_figure(prediction, label, labels, report, input=noisy, truth=truth, slices=[0, 2])
    titles = [axis.get_title() for axis in figure.axes]
    for z in (0, 2):
        for image in ("input", "output", "label", "truth"):
            assert f"{image} · lung W1500 L-600 · z={z}" in titles
            assert f"{image} · mediastinal W400 L40 · z={z}" in titles
        assert f"regions over label · z={z}" in titles
        assert any(t.startswith("output − label") and t.endswith(f"z={z}") for t in titles)
        assert any(t.startswith("output − truth") and t.endswith(f"z={z}") for t in titles)
        assert any(t.startswith("input − output") and t.endswith(f"z={z}") for t in titles)
    chart = next(axis for axis in figure.axes if axis.get_title().startswith("RMSE per region"))
    assert [t.get_text() for t in chart.get_xticklabels()] == ["background", "lung", "body", "overall"]
    assert len(chart.patches) == 4 * 4  # four comparisons over four regions
    assert any(axis.get_title().startswith("noise std") for axis in figure.axes)
    path = save_figure(figure, tmp_path / "report.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_truth_or_input_only_the_existing_images_are_drawn():
    prediction, label, labels, _, _ = _case()
    figure = report_figure(prediction, label, labels, None, slices=[1])
    titles = [axis.get_title() for axis in figure.axes if axis.get_title()]
    assert not any("truth" in t or t.startswith("input") for t in titles)
    assert len([t for t in titles if "lung W1500" in t]) == 2
    assert not any("RMSE" in t for t in titles)


def test_default_slice_is_the_one_with_most_lung_and_slice_lists_are_checked():
    labels = np.zeros((5, 8, 8), dtype=np.uint8)
    labels[3, 2:6, 2:6] = 2
    labels[1, 3:5, 3:5] = 2
    assert default_slices(labels) == [3]
    assert parse_slices("0, -1", 5) == [0, 4]
    with pytest.raises(InputError, match="outside"):
        parse_slices("7", 5)
    with pytest.raises(InputError, match="not a slice number"):
        parse_slices("a", 5)


def test_figure_format_is_checked(tmp_path):
    prediction, label, labels, _, _ = _case()
    with pytest.raises(InputError, match=".png"):
        save_figure(report_figure(prediction, label, labels, slices=[0]), tmp_path / "report.jpg")
