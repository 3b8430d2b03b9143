"""Region figures of a denoised volume against a label, through `ipv2 evaluate` in a separate process."""

import json

import slicer

from ipv2.protocol import EvaluateCommand
from IPv2Lib.BackendLogic import BackendLogic
from IPv2Lib.NodeTransforms import requireOneParentTransform
from IPv2Lib.RegionSegmentation import RegionSegmentation
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

FIDELITY_METRICS = ("rmse_hu", "mae_hu", "psnr_db", "ssim")
MISSING_FIGURE = "-"


class EvaluateLogic(BackendLogic):
    def createEvaluateJob(self, predictionNode, labelNode, segmentationNode, truthNode=None, **callbacks):
        """Region figures of a prediction against a label, and against `truthNode` when given; the
        job's result is (table node, report, figure PNG bytes). `callbacks`: the job's
        `onSucceeded`, `onProgress` and `onLog`."""
        if predictionNode is None or labelNode is None or segmentationNode is None:
            raise ValueError("select the prediction, the evaluation label and the region segmentation")
        requireOneParentTransform(
            [
                ("the prediction", predictionNode),
                ("the evaluation label", labelNode),
                ("the regions", segmentationNode),
                ("the truth", truthNode),
            ]
        )
        prediction = VolumeNodeConverter.toVolume(predictionNode)
        inputs = {
            "prediction": prediction,
            "label": VolumeNodeConverter.toVolume(labelNode),
            "masks": prediction.with_array(RegionSegmentation.toLabels(segmentationNode, predictionNode)),
        }
        if truthNode is not None:
            inputs["truth"] = VolumeNodeConverter.toVolume(truthNode)
        command = EvaluateCommand(truth=truthNode is not None)

        def importResults(workFolder):
            outputs = command.output_files(workFolder)
            report = json.loads(outputs["report"].read_text())
            figure = outputs["figure"].read_bytes() if outputs["figure"].is_file() else None
            table = self.reportTable(report, f"{predictionNode.GetName()} evaluation")
            return table, report, figure

        return self.backendJob(
            "Evaluation",
            command,
            inputs,
            importResults,
            inputNodes=[predictionNode, labelNode, segmentationNode, truthNode],
            **callbacks,
        )

    @staticmethod
    def reportRows(report):
        """(comparison, region, metric values...) rows of the report's fidelity figures."""
        rows = []
        for comparison, regions in (report.get("fidelity") or {}).items():
            for region, figures in regions.items():
                rows.append([comparison, region] + [figures.get(metric) for metric in FIDELITY_METRICS])
        return rows

    @staticmethod
    def reportTable(report, name):
        """A new table node with one row per comparison and region; a figure the report lacks shows as "-".

        The columns hold text: a number column would show a missing figure as 0.
        """
        table = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLTableNode", slicer.mrmlScene.GenerateUniqueName(name))
        for column in ("comparison", "region", *FIDELITY_METRICS):
            table.AddColumn().SetName(column)
        for row in EvaluateLogic.reportRows(report):
            index = table.AddEmptyRow()
            table.SetCellText(index, 0, row[0])
            table.SetCellText(index, 1, row[1])
            for offset, value in enumerate(row[2:], start=2):
                table.SetCellText(
                    index, offset, MISSING_FIGURE if not isinstance(value, (int, float)) else f"{value:.6g}"
                )
        return table
