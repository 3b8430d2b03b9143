"""Module logic on real MRML: checks before work, results imported as new nodes."""

import importlib.util
import sys

import numpy as np
import pytest
import slicer
from harness import writeBackendOutputs

from ipv2.contract import TRAIN_TARGET_FILE
from ipv2.io import write_volume
from ipv2.protocol import PurifyCommand
from ipv2.testing import chest_like
from ipv2.volume import Volume
from IPv2Lib.DenoiseLogic import DenoiseLogic
from IPv2Lib.EvaluateLogic import FIDELITY_METRICS, MISSING_FIGURE, EvaluateLogic
from IPv2Lib.PurifyLogic import PurifyLogic
from IPv2Lib.RegionSegmentation import LABEL_BACKGROUND, LABEL_LUNG, RegionSegmentation
from IPv2Lib.TrainLogic import TrainLogic, freeFileName, lossOf
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter


def backendHas(command):
    return importlib.util.find_spec(f"ipv2.cli.{command}") is not None


@pytest.fixture
def pairNodes(mrmlScene, obliqueCt):
    lowDose = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    normalDose = VolumeNodeConverter.toNewNode(
        obliqueCt.with_array(chest_like(obliqueCt.shape, seed=7)), "patient NDCT"
    )
    return lowDose, normalDose


def nodeCount(scene):
    return scene.GetNumberOfNodes()


def test_geometry_mismatch_is_refused_before_any_work(mrmlScene, pairNodes, obliqueCt, tmp_path, monkeypatch):
    lowDose, _ = pairNodes
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    shifted = Volume(obliqueCt.array, spacing=(0.7, 0.8, 5.0), origin=obliqueCt.origin, direction=obliqueCt.direction)
    mismatched = VolumeNodeConverter.toNewNode(shifted, "other NDCT")
    before = nodeCount(mrmlScene)
    with pytest.raises(ValueError, match="spacing"):
        PurifyLogic(python=sys.executable).createJob(lowDose, mismatched)
    assert nodeCount(mrmlScene) == before
    assert list(tmp_path.iterdir()) == []  # no work folder was made


@pytest.mark.parametrize(
    "settings, message",
    [
        (PurifyCommand(dose=0.0), "dose"),
        (PurifyCommand(mode="ipv3"), "mode"),
        (PurifyCommand(weak="median"), "weak denoiser"),
        (PurifyCommand(device="gpu"), "device 'gpu' is unknown"),
    ],
)
def test_bad_settings_are_refused(pairNodes, settings, message):
    with pytest.raises(ValueError, match=message):
        PurifyLogic().checkInputs(*pairNodes, settings)


def test_same_node_twice_is_refused(pairNodes):
    with pytest.raises(ValueError, match="two different volumes"):
        PurifyLogic().checkInputs(pairNodes[0], pairNodes[0], PurifyCommand())


def test_backend_outputs_become_new_nodes_on_the_input_grid(mrmlScene, pairNodes, tmp_path):
    lowDoseNode, normalDoseNode = pairNodes
    lowDose = VolumeNodeConverter.toVolume(lowDoseNode)
    inputsBefore = [np.array(slicer.util.arrayFromVolume(node)) for node in pairNodes]
    labels = writeBackendOutputs(tmp_path, lowDose)

    before = nodeCount(mrmlScene)
    outputs = PurifyLogic.readOutputs(tmp_path, lowDose)
    assert nodeCount(mrmlScene) == before  # reading touches no node: it runs outside the main thread
    result = PurifyLogic.importOutputs(outputs, lowDoseNode, normalDoseNode)
    assert result.trainInputNode.GetName() == "patient uLDCT training input"
    assert result.trainTargetNode.GetName() == "patient NDCT training target"
    assert result.evalLabelNode.GetName() == "patient uLDCT evaluation label"
    for offset, node in ((1, result.trainInputNode), (2, result.trainTargetNode), (3, result.evalLabelNode)):
        volume = VolumeNodeConverter.toVolume(node)
        assert volume.same_geometry(lowDose)
        np.testing.assert_allclose(volume.origin, lowDose.origin, atol=1e-6)
        np.testing.assert_array_equal(volume.array, lowDose.array + offset)
    np.testing.assert_array_equal(RegionSegmentation.toLabels(result.segmentationNode, lowDoseNode), labels)
    for node, before in zip(pairNodes, inputsBefore):
        np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), before)
    assert PurifyLogic.reportLines(result.report) == ["lung: 12.5 mL", "masks: 0.25 s"]


def test_outputs_on_another_grid_are_refused_and_add_no_nodes(mrmlScene, pairNodes, tmp_path):
    lowDoseNode, normalDoseNode = pairNodes
    lowDose = VolumeNodeConverter.toVolume(lowDoseNode)
    writeBackendOutputs(tmp_path, lowDose)
    moved = Volume(lowDose.array, spacing=lowDose.spacing, origin=(0.0, 0.0, 0.0), direction=lowDose.direction)
    write_volume(moved, tmp_path / TRAIN_TARGET_FILE)
    before = nodeCount(mrmlScene)
    with pytest.raises(ValueError, match="voxel grid"):
        PurifyLogic.readOutputs(tmp_path, lowDose)
    assert nodeCount(mrmlScene) == before


def test_evaluation_report_becomes_a_table(mrmlScene, obliqueCt):
    from ipv2.evaluate.report import evaluate_volumes

    labels = np.where(obliqueCt.array < -500, LABEL_LUNG, 0).astype(np.uint8)
    labels[:, :3, :] = LABEL_BACKGROUND
    report = evaluate_volumes(obliqueCt.with_array(obliqueCt.array + 10), obliqueCt, labels)
    table = EvaluateLogic.reportTable(report, "evaluation")
    rows = EvaluateLogic.reportRows(report)
    assert table.GetNumberOfRows() == len(rows) == sum(len(regions) for regions in report["fidelity"].values())
    assert [table.GetColumnName(index) for index in range(table.GetNumberOfColumns())] == [
        "comparison",
        "region",
        *FIDELITY_METRICS,
    ]
    overall = next(index for index, row in enumerate(rows) if row[1] == "overall")
    assert float(table.GetCellText(overall, 2)) == pytest.approx(10.0, rel=1e-4)  # RMSE of a +10 HU offset


def test_a_figure_the_report_lacks_shows_as_a_dash_not_zero(mrmlScene):
    report = {
        "fidelity": {
            "ipv2_label": {
                "lung": {"rmse_hu": 12.5, "mae_hu": 0.0, "psnr_db": None},
                "overall": {"rmse_hu": 3.0, "mae_hu": 2.0, "psnr_db": 40.0, "ssim": 0.9},
            }
        }
    }
    table = EvaluateLogic.reportTable(report, "evaluation")
    lung = [table.GetCellText(0, column) for column in range(table.GetNumberOfColumns())]
    assert lung == ["ipv2_label", "lung", "12.5", "0", MISSING_FIGURE, MISSING_FIGURE]
    assert table.GetCellText(1, 5) == "0.9"


def test_train_job_refuses_an_existing_checkpoint_unless_told(tmp_path):
    existing = tmp_path / "model.pt"
    existing.write_bytes(b"an earlier model")
    with pytest.raises(ValueError, match="already exists"):
        TrainLogic().createTrainJob(existing, "redcnn", 10, pairFolders=[tmp_path])
    with pytest.raises(ValueError, match="is a folder"):
        TrainLogic().createTrainJob(tmp_path, "redcnn", 10, pairFolders=[tmp_path])
    job = TrainLogic().createTrainJob(existing, "redcnn", 10, pairFolders=[tmp_path], overwrite=True)
    assert job.state == "pending"
    assert existing.read_bytes() == b"an earlier model"


def test_a_checkpoint_that_appeared_during_training_is_kept(tmp_path):
    destination = tmp_path / "model.safetensors"
    job = TrainLogic().createTrainJob(destination, "unet", 10, pairFolders=[tmp_path])
    work = tmp_path / "work"
    work.mkdir()
    (work / "checkpoint.safetensors").write_bytes(b"new weights")
    destination.write_bytes(b"written meanwhile")
    (tmp_path / "model-1.safetensors").write_bytes(b"another")
    assert job.importResults(work) == tmp_path / "model-2.safetensors"
    assert destination.read_bytes() == b"written meanwhile"
    assert (tmp_path / "model-2.safetensors").read_bytes() == b"new weights"


def test_free_file_name_keeps_every_suffix(tmp_path):
    assert freeFileName(tmp_path / "a.seg.nrrd") == tmp_path / "a.seg.nrrd"
    (tmp_path / "a.seg.nrrd").write_text("x")
    assert freeFileName(tmp_path / "a.seg.nrrd") == tmp_path / "a-1.seg.nrrd"


def test_work_folders_go_to_the_system_temp_folder_outside_slicer():
    from IPv2Lib.BackendJob import defaultWorkFolderParent

    assert defaultWorkFolderParent() is None  # no slicer.app here; inside Slicer, its temporary folder


@pytest.mark.parametrize("model", ["unet", "restormer", "bm3d", "nlm"])
def test_denoise_job_runs_a_named_method_at_the_chosen_strength(mrmlScene, obliqueCt, tmp_path, model):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    job = DenoiseLogic().createDenoiseJob(node, model, "cpu", "high")
    arguments = job.command.to_argv(tmp_path)
    assert arguments[:3] == ["denoise", "--model", model]
    if model in ("bm3d", "nlm"):  # the classical methods take no strength: the backend would refuse one
        assert "--strength" not in arguments
    else:
        assert arguments[arguments.index("--strength") + 1] == "high"
    assert arguments[arguments.index("--device") + 1] == "cpu"


def test_inputs_are_written_uncompressed_and_exactly(mrmlScene, obliqueCt, tmp_path):
    """Inputs are written on Slicer's main thread: raw, since gzip there freezes the application."""
    from ipv2.io import read_volume

    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    DenoiseLogic().createDenoiseJob(node, "unet").prepareInputs(tmp_path)
    header = (tmp_path / "input.nrrd").read_bytes().split(b"\n\n", 1)[0].decode()
    assert "encoding: raw" in header
    written = read_volume(tmp_path / "input.nrrd")
    assert written.same_geometry(obliqueCt)
    np.testing.assert_array_equal(written.array, obliqueCt.array.astype(np.float32))


def test_denoise_job_takes_a_checkpoint_path_in_either_slash_style(mrmlScene, obliqueCt, tmp_path):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    checkpoint = tmp_path / "trained" / "model.safetensors"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"weights")
    job = DenoiseLogic().createDenoiseJob(node, checkpoint.as_posix())
    assert str(job.command.to_argv(tmp_path)[2]) == checkpoint.as_posix()


@pytest.mark.parametrize(
    "model, strength, message",
    [
        ("unet2", "medium", "neither a bundled model"),
        ("missing/model.pt", "medium", "neither a bundled model"),
        ("unet", "maximum", "strength 'maximum'"),
    ],
)
def test_denoise_job_refuses_an_unknown_method_or_strength(mrmlScene, obliqueCt, model, strength, message):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    with pytest.raises(ValueError, match=message):
        DenoiseLogic().createDenoiseJob(node, model, "auto", strength)


def test_denoise_and_train_jobs_refuse_an_unknown_device_before_any_work(mrmlScene, obliqueCt, tmp_path):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    with pytest.raises(ValueError, match="device 'gpu' is unknown"):
        DenoiseLogic().createDenoiseJob(node, "unet", "gpu")
    with pytest.raises(ValueError, match="device 'gpu' is unknown"):
        TrainLogic().createTrainJob(tmp_path / "model.pt", "unet", 10, pairFolders=[tmp_path], device="gpu")
    assert list(tmp_path.iterdir()) == []  # no work folder, no checkpoint


def test_a_classical_method_cannot_be_trained(tmp_path):
    with pytest.raises(ValueError, match="cannot be trained"):
        TrainLogic().createTrainJob(tmp_path / "model.pt", "bm3d", 10, pairFolders=[tmp_path])


def test_loss_is_read_from_progress_or_log():
    assert lossOf({"stage": "train", "done": 1, "total": 5, "loss": 0.25}) == 0.25
    assert lossOf(None, "step 10/100 loss=0.0123 lr=1e-4") == pytest.approx(0.0123)
    assert lossOf({"stage": "train"}, "no figure here") is None


def test_train_job_refuses_missing_pairs(tmp_path):
    with pytest.raises(ValueError, match="at least one purified pair"):
        TrainLogic().createTrainJob(tmp_path / "model.pt", "redcnn", 10)
    with pytest.raises(ValueError, match="no such folder"):
        TrainLogic().createTrainJob(tmp_path / "model.pt", "redcnn", 10, pairFolders=[tmp_path / "missing"])


@pytest.mark.skipif(not backendHas("purify"), reason="`ipv2 purify` is not in this backend yet")
def test_purify_runs_in_a_separate_process_and_imports_results(mrmlScene, pairNodes):
    progress = []
    result = PurifyLogic(python=sys.executable).process(
        *pairNodes, PurifyCommand(weak="tv"), onProgress=progress.append
    )
    assert progress, "the backend reported no progress"
    lowDose = VolumeNodeConverter.toVolume(pairNodes[0])
    assert VolumeNodeConverter.toVolume(result.trainInputNode).same_geometry(lowDose)
    assert result.segmentationNode.GetSegmentation().GetNumberOfSegments() == 3


@pytest.mark.skipif(not backendHas("purify"), reason="`ipv2 purify` is not in this backend yet")
def test_cancelled_purify_leaves_the_scene_as_it_was(mrmlScene, pairNodes):
    before = nodeCount(mrmlScene)
    job = PurifyLogic(python=sys.executable).createJob(*pairNodes, PurifyCommand(weak="tv"))
    job.start()
    workFolder = job.workFolder
    job.cancel()
    with pytest.raises(Exception, match="cancelled"):
        job.run(pollSeconds=0.02)
    assert nodeCount(mrmlScene) == before
    assert not workFolder.exists()


@pytest.mark.skipif(not backendHas("evaluate"), reason="`ipv2 evaluate` is not in this backend yet")
def test_evaluate_runs_in_a_separate_process_and_fills_a_table(mrmlScene, obliqueCt):
    prediction = VolumeNodeConverter.toNewNode(obliqueCt.with_array(obliqueCt.array + 10), "prediction")
    label = VolumeNodeConverter.toNewNode(obliqueCt, "label")
    labels = np.where(obliqueCt.array < -500, LABEL_LUNG, 0).astype(np.uint8)
    labels[:, :3, :] = LABEL_BACKGROUND
    segmentation = RegionSegmentation.create(labels, label, "regions")
    table, report, figure = (
        EvaluateLogic(python=sys.executable).createEvaluateJob(prediction, label, segmentation).run()
    )
    assert table.GetNumberOfRows() == len(EvaluateLogic.reportRows(report)) > 0
    assert figure is not None and figure[:4] == b"\x89PNG"


def test_denoise_runs_in_a_separate_process_and_its_raw_result_is_read_in_a_worker(mrmlScene, obliqueCt, tmp_path):
    from ipv2.cli.main import main
    from ipv2.io import read_volume, write_volume

    node = VolumeNodeConverter.toNewNode(obliqueCt, "patient uLDCT")
    job = DenoiseLogic(python=sys.executable).createDenoiseJob(node, "nlm", "cpu")
    assert "--uncompressed" in job.command.to_argv(tmp_path)
    result = job.run(pollSeconds=0.02)
    denoised = result.denoisedNode
    assert job.readResults is not None and denoised.GetName() == "patient uLDCT denoised"
    # The same command in this process, on the same input, gives the same voxels.
    source = write_volume(VolumeNodeConverter.toVolume(node), tmp_path / "in.nrrd", compress=False)
    assert (
        main(
            [
                "denoise",
                "--model",
                "nlm",
                "--in",
                str(source),
                "--out",
                str(tmp_path / "out.nrrd"),
                "--progress",
                "none",
            ]
        )
        == 0
    )
    denoisedVolume = VolumeNodeConverter.toVolume(denoised)
    assert denoisedVolume.same_geometry(obliqueCt)
    np.testing.assert_array_equal(denoisedVolume.array, read_volume(tmp_path / "out.nrrd").array)
    # The removed image and the account came back with it; the removed image is no node until compared.
    assert result.removed.same_geometry(obliqueCt) and result.removedNode is None
    np.testing.assert_allclose(result.removed.array, obliqueCt.array - denoisedVolume.array, atol=1e-3)
    assert set(result.account["regions"]) >= {"lung", "soft_tissue"} and result.account["seconds"] > 0
