"""The logics' jobs are made one way, from the backend's own commands (ipv2.protocol), on real MRML:
their inputs are written where the command reads them, and the command line is the one the
real `ipv2` parser takes."""

import numpy as np
import pytest

from ipv2.cli.main import build_parser
from ipv2.io import read_volume
from ipv2.protocol import EvaluateCommand, TrainCommand
from IPv2Lib.BackendJob import JobState
from IPv2Lib.BackendLogic import BackendLogic
from IPv2Lib.EvaluateLogic import EvaluateLogic
from IPv2Lib.RegionSegmentation import LABEL_BACKGROUND, LABEL_LUNG, RegionSegmentation
from IPv2Lib.TrainLogic import TrainLogic
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter


def test_an_evaluation_job_writes_every_input_its_command_reads(mrmlScene, obliqueCt, tmp_path):
    prediction = VolumeNodeConverter.toNewNode(obliqueCt.with_array(obliqueCt.array + 10), "prediction")
    label = VolumeNodeConverter.toNewNode(obliqueCt, "label")
    truth = VolumeNodeConverter.toNewNode(obliqueCt.with_array(obliqueCt.array - 3), "truth")
    labels = np.where(obliqueCt.array < -500, LABEL_LUNG, 0).astype(np.uint8)
    labels[:, :3, :] = LABEL_BACKGROUND
    regions = RegionSegmentation.create(labels, label, "regions")
    job = EvaluateLogic().createEvaluateJob(prediction, label, regions, truth)
    assert job.state == JobState.PENDING and job.command == EvaluateCommand(truth=True)
    job.prepareInputs(tmp_path)
    files = job.command.input_files(tmp_path)
    for role, offset in (("prediction", 10), ("label", 0), ("truth", -3), ("masks", None)):
        written = read_volume(files[role])
        assert written.same_geometry(obliqueCt)
        expected = labels if offset is None else obliqueCt.array.astype(np.float32) + offset
        np.testing.assert_array_equal(written.array, expected)
        # Raw, as a labelmap or in float32: the type the backend reads each as.
        header = files[role].read_bytes().split(b"\n\n", 1)[0].decode()
        assert "encoding: raw" in header
        assert ("type: unsigned char" if offset is None else "type: float") in header
    args = build_parser().parse_args(job.command.to_argv(tmp_path))
    assert [args.pred, args.label, args.masks, args.truth] == [
        str(files[role]) for role in ("prediction", "label", "masks", "truth")
    ]


def test_a_training_job_writes_the_scene_pairs_it_trains_on(mrmlScene, obliqueCt, tmp_path):
    work, given = tmp_path / "work", tmp_path / "purified"
    given.mkdir()
    pairs = [
        (VolumeNodeConverter.toNewNode(obliqueCt, f"input {index}"), VolumeNodeConverter.toNewNode(obliqueCt, "target"))
        for index in range(2)
    ]
    job = TrainLogic().createTrainJob(tmp_path / "model.safetensors", "unet", 10, pairNodes=pairs, pairFolders=[given])
    assert job.command.scene_pairs == 2 and job.command.checkpoint_suffix == ".safetensors"
    job.prepareInputs(work)
    args = build_parser().parse_args(job.command.to_argv(work))
    for index in range(2):
        folder = job.command.scene_pair_folder(work, index)
        assert str(folder) in args.data
        for role in TrainCommand.scene_pair_roles(index):
            assert job.command.input_files(work)[role].parent == folder
            assert read_volume(job.command.input_files(work)[role]).same_geometry(obliqueCt)
    assert args.data[-1] == str(given) and args.out == str(work / "checkpoint.safetensors")


def test_a_job_given_other_inputs_than_its_command_reads_is_refused(obliqueCt):
    with pytest.raises(
        ValueError, match=r"reads \['label', 'masks', 'prediction'\]; the job was given \['prediction'\]"
    ):
        BackendLogic().backendJob("Evaluation", EvaluateCommand(), {"prediction": obliqueCt}, lambda folder: None)


def test_job_states_read_as_their_names():
    assert JobState.RUNNING == "running" and not JobState.RUNNING.finished
    assert all(state.finished for state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED))
