import json

import numpy as np
import pytest

from ipv2.errors import InputError
from ipv2.evaluate import evaluate_volumes, json_ready, write_report
from ipv2.progress import Monitor
from ipv2.testing import chest_like
from ipv2.volume import Volume


def _case(shape=(3, 48, 48)):
    rng = np.random.default_rng(3)
    truth = chest_like(shape, seed=0).astype(np.float32)
    labels = np.zeros(shape, dtype=np.uint8)
    labels[truth < -950] = 1
    labels[(truth > -900) & (truth < -700)] = 2
    label = truth + rng.normal(0, 10, shape).astype(np.float32)
    prediction = truth + rng.normal(0, 30, shape).astype(np.float32)
    noisy = truth + rng.normal(0, 150, shape).astype(np.float32)
    return prediction, label, labels, truth, noisy


def test_report_holds_every_region_and_comparison():
    prediction, label, labels, truth, noisy = _case()
    report = evaluate_volumes(prediction, label, labels, truth, input=noisy)
    assert set(report["fidelity"]) == {"prediction_vs_label", "prediction_vs_truth", "input_vs_label", "input_vs_truth"}
    for regions in report["fidelity"].values():
        assert set(regions) == {"overall", "background", "lung", "body"}
    assert report["data_range_hu"] == 2000.0 and "2000" in report["data_range"]
    lung = report["fidelity"]["prediction_vs_truth"]["lung"]
    assert lung["rmse_hu"] == pytest.approx(np.sqrt(np.mean((prediction - truth)[labels == 2] ** 2)))
    # The denoised volume is closer to the truth than the noisy input in every region.
    for region in ("background", "lung", "body"):
        assert (
            report["fidelity"]["prediction_vs_truth"][region]["rmse_hu"]
            < report["fidelity"]["input_vs_truth"][region]["rmse_hu"]
        )
    noise = report["noise_std_hu"]
    assert noise["truth"]["soft_tissue"] == pytest.approx(5.0, rel=0.2)
    assert noise["prediction"]["lung"] == pytest.approx(np.hypot(30, 5), rel=0.1)
    assert noise["input"]["background"] > 4 * noise["prediction"]["background"]
    assert report["regions"]["lung"]["voxels"] == int((labels == 2).sum())


def test_label_data_range_is_the_label_span():
    prediction, label, labels, _, _ = _case()
    fixed = evaluate_volumes(prediction, label, labels)
    by_label = evaluate_volumes(prediction, label, labels, data_range="label")
    span = float(label.max() - label.min())
    assert by_label["data_range_hu"] == pytest.approx(span)
    rmse = fixed["fidelity"]["prediction_vs_label"]["overall"]["rmse_hu"]
    assert by_label["fidelity"]["prediction_vs_label"]["overall"]["psnr_db"] == pytest.approx(
        20 * np.log10(span / rmse)
    )


def test_volumes_and_plain_arrays_give_the_same_report_and_inputs_stay_untouched():
    prediction, label, labels, truth, _ = _case()
    before = prediction.copy()
    from_arrays = evaluate_volumes(prediction, label, labels, truth, spacing=(0.7, 0.7, 2.5))

    def volume(array):
        return Volume(array, spacing=(0.7, 0.7, 2.5))

    from_volumes = evaluate_volumes(volume(prediction), volume(label), volume(labels.astype(np.float32)), volume(truth))
    assert json_ready(from_arrays) == json_ready(from_volumes)
    np.testing.assert_array_equal(prediction, before)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, label, m: (p[:, :-1], label, m), "prediction"),
        (lambda p, label, m: (p, label, np.where(m == 2, 5, m)), "unexpected label values"),
        (lambda p, label, m: (p, label, m + 0.5), "fractional"),
        (lambda p, label, m: (np.where(m == 1, np.nan, p), label, m), "NaN"),
        (lambda p, label, m: (p, label[:, :, :40], m), "label"),
        (lambda p, label, m: (p, label, m[:2]), "masks"),
    ],
)
def test_bad_inputs_are_refused_with_a_message_naming_them(change, message):
    prediction, label, labels, _, _ = _case()
    prediction, label, labels = change(prediction, label, labels)
    with pytest.raises(InputError, match=message):
        evaluate_volumes(prediction, label, labels)


def test_mismatched_spacing_and_bad_data_range_are_refused():
    prediction, label, labels, _, _ = _case()
    with pytest.raises(InputError, match="spacing"):
        evaluate_volumes(Volume(prediction, spacing=(1, 1, 1)), Volume(label, spacing=(1, 1, 2)), labels)
    with pytest.raises(InputError, match="data range"):
        evaluate_volumes(prediction, label, labels, data_range=-5)


def test_progress_is_reported_and_cancel_stops_the_work():
    prediction, label, labels, _, _ = _case()
    steps = []
    evaluate_volumes(prediction, label, labels, monitor=Monitor(lambda *step: steps.append(step)))
    assert steps[0][1] == 0 and steps[-1][1] == steps[-1][2]
    monitor = Monitor()
    monitor.cancel()
    from ipv2.errors import Cancelled

    with pytest.raises(Cancelled):
        evaluate_volumes(prediction, label, labels, monitor=monitor)


def test_written_report_is_strict_json_with_null_for_missing_figures(tmp_path):
    prediction, label, labels, _, _ = _case()
    labels[labels == 2] = 0  # no lung: its figures are undefined
    report = evaluate_volumes(prediction, label, labels)
    path = write_report(report, tmp_path / "report.json")

    def refuse(constant):
        raise ValueError(constant)

    loaded = json.loads(path.read_text(), parse_constant=refuse)
    assert loaded["fidelity"]["prediction_vs_label"]["lung"]["rmse_hu"] is None
    assert loaded["regions"]["lung"]["voxels"] == 0
    assert not list(tmp_path.glob(".*partial*"))
