"""The Denoise panel's logic on real MRML: region strengths, the account shown, the removed image
as a node, and the labels the combo boxes show for the codes the jobs pass."""

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from ipv2 import contract
from IPv2Lib.ChoiceLabels import TOOL_TIP_ROLE, showLabels, strengthToolTip
from IPv2Lib.DenoiseAccount import accountLines
from IPv2Lib.DenoiseLogic import DenoiseLogic, DenoiseOutputs
from IPv2Lib.VolumeNodeConverter import VolumeNodeConverter

REPOSITORY = Path(__file__).resolve().parents[1]


def arguments(job, folder):
    return job.command.to_argv(folder)


def test_linked_strength_passes_one_level(mrmlScene, obliqueCt, tmp_path):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "scan")
    passed = arguments(DenoiseLogic().createDenoiseJob(node, "unet", "cpu", "low"), tmp_path)
    assert passed[passed.index("--strength") + 1] == "low"
    assert "--strength-lung" not in passed and "--strength-body" not in passed
    assert passed[passed.index("--removed") + 1] == str(tmp_path / "removed.nrrd")


def test_unlinked_strengths_pass_the_lung_and_body_levels(mrmlScene, obliqueCt, tmp_path):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "scan")
    passed = arguments(DenoiseLogic().createDenoiseJob(node, "unet", "cpu", "medium", "low", "high"), tmp_path)
    assert passed[passed.index("--strength-lung") + 1] == "low"
    assert passed[passed.index("--strength-body") + 1] == "high"
    assert "--strength" not in passed


@pytest.mark.parametrize(
    "lung, body, message",
    [("low", None, "both the lung and the body strength"), ("gentle", "high", "lung strength 'gentle'")],
)
def test_a_bad_region_strength_is_refused(mrmlScene, obliqueCt, lung, body, message):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "scan")
    with pytest.raises(ValueError, match=message):
        DenoiseLogic().createDenoiseJob(node, "unet", "cpu", "medium", lung, body)


ACCOUNT = {
    "model": "unet, strength lung low body high",
    "measured_noise_hu": 25.0,
    "seconds": 3.2,
    "regions": {
        "soft_tissue": {
            "noise_before_hu": 41.27,
            "noise_after_hu": 12.04,
            "lesion_noise_before_hu": 9.5,
            "lesion_noise_after_hu": 4.25,
        },
        "lung": {
            "noise_before_hu": 60.0,
            "noise_after_hu": 30.55,
            "lesion_noise_before_hu": None,
            "lesion_noise_after_hu": None,
        },
    },
    "texture": {"ratio": 0.874},
    "structure_check": {"flagged_slices": [3, 9], "warning": "what was removed gathers on edges"},
}


def test_the_account_reads_before_and_after_per_region():
    lines = accountLines(ACCOUNT)
    assert lines[0] == "Noise in soft tissue: 41.3 -> 12.0 HU (lesion scale 9.5 -> 4.2 HU)"
    assert lines[1] == "Noise in lung: 60.0 -> 30.6 HU (lesion scale - -> - HU)"
    assert lines[2] == "Texture (NPS mean frequency, after / before): 0.87"
    assert lines[3] == "Warning: what was removed gathers on edges (slices 3, 9)."


def test_an_account_without_warning_says_so_and_no_account_shows_nothing():
    clean = dict(ACCOUNT, structure_check={"flagged_slices": [], "warning": None})
    assert accountLines(clean)[-1].startswith("Structure check: what was removed looks like noise")
    assert accountLines({}) == []


def test_the_removed_image_becomes_one_node_windowed_on_the_noise(mrmlScene, obliqueCt):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "scan")
    removed = obliqueCt.with_array(np.full(obliqueCt.shape, 3.0, dtype=np.float32))
    job = DenoiseLogic().createDenoiseJob(node, "nlm")
    result = job.importResults(DenoiseOutputs(obliqueCt, removed=removed, account=ACCOUNT))
    before = mrmlScene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")
    removedNode = DenoiseLogic.removedNode(result)
    assert DenoiseLogic.removedNode(result) is removedNode  # made once
    assert mrmlScene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") == before + 1
    assert removedNode.GetName() == "scan removed"
    assert VolumeNodeConverter.toVolume(removedNode).same_geometry(obliqueCt)
    display = removedNode.GetDisplayNode()
    assert (display.GetWindow(), display.GetLevel()) == (200.0, 0.0)  # 8 x the measured 25 HU


def test_a_run_without_removed_image_cannot_be_compared(mrmlScene, obliqueCt):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "scan")
    result = DenoiseLogic().createDenoiseJob(node, "nlm").importResults(DenoiseOutputs(obliqueCt))
    with pytest.raises(ValueError, match="no removed image"):
        DenoiseLogic.removedNode(result)


class ComboBox:
    """What the parameter node's connector leaves: the choices as item texts, read by index."""

    def __init__(self, codes):
        self.texts = list(codes)
        self.data = {}

    @property
    def count(self):
        return len(self.texts)

    def setItemText(self, index, text):
        self.texts[index] = text

    def setItemData(self, index, value, role):
        self.data[(index, role)] = value


def test_combo_boxes_show_labels_in_the_codes_order():
    box = ComboBox(contract.MODES)
    showLabels(box, contract.MODES)
    assert box.texts == ["IPv1", "IPv2", "IPv2, motion-aware"]
    box = ComboBox(contract.STRENGTHS)
    showLabels(box, contract.STRENGTHS, strengthToolTip)
    assert box.data[(2, TOOL_TIP_ROLE)] == strengthToolTip("high")
    with pytest.raises(ValueError, match="not the 4 choices"):
        showLabels(ComboBox(contract.DEVICES), contract.WEAK_DENOISERS)


def test_every_code_a_panel_offers_has_one_label_of_its_own():
    for codes in (contract.MODES, contract.WEAK_DENOISERS, contract.DENOISERS, contract.STRENGTHS, contract.DEVICES):
        labels = [contract.CHOICE_LABELS[code] for code in codes]
        assert len(set(labels)) == len(labels)
    assert contract.CHOICE_LABELS["nlm"] == "Non-local means"


def test_the_strength_tool_tips_state_the_backends_dose_multiples():
    from ipv2.denoise.strength import STRENGTHS

    assert contract.STRENGTH_DOSE_MULTIPLES == STRENGTHS
    assert strengthToolTip("medium") == f"The result looks like a scan at {STRENGTHS['medium']:g}x the input's dose."


def _choiceFields(module):
    """{field: codes constant} of the module's parameter node fields annotated with Choice(list(X))."""
    tree = ast.parse((REPOSITORY / module / f"{module}.py").read_text())
    fields = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and "Choice(list(" in ast.unparse(node.annotation):
            fields[node.target.id] = re.search(r"Choice\(list\((\w+)\)\)", ast.unparse(node.annotation)).group(1)
    return fields


@pytest.mark.parametrize("module", ["IPv2Purify", "IPv2Denoise"])
def test_every_choice_combo_box_of_a_panel_shows_labels(module):
    """Each combo box bound to a Choice field is relabelled with the codes of that field."""
    ui = (REPOSITORY / module / "Resources" / "UI" / f"{module}.ui").read_text()
    source = (REPOSITORY / module / f"{module}.py").read_text()
    fields = _choiceFields(module)
    assert fields
    for fieldName, codes in fields.items():
        widget = re.search(rf'name="(\w+)">(?:(?!</widget>).)*?<string>{fieldName}</string>', ui, flags=re.S)
        assert widget, f"no widget of {module}.ui is bound to {fieldName}"
        assert re.search(rf'"{widget.group(1)}": {codes}\b', source), (
            f"{module}.py does not label {widget.group(1)} with {codes}"
        )


def regionsArguments(node, model, lungStrength, folder):
    """The `--regions PATH` of the job's command line, or []."""
    passed = arguments(
        DenoiseLogic().createDenoiseJob(node, model, "cpu", "medium", lungStrength, lungStrength), folder
    )
    return passed[passed.index("--regions") : passed.index("--regions") + 2] if "--regions" in passed else []


def test_region_strengths_ask_the_backend_for_the_regions_they_use(mrmlScene, obliqueCt, tmp_path):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "scan")
    assert regionsArguments(node, "unet", "low", tmp_path) == ["--regions", str(tmp_path / "regions.nrrd")]
    assert regionsArguments(node, "unet", None, tmp_path) == []
    assert regionsArguments(node, "nlm", "low", tmp_path) == []


def test_the_regions_the_run_used_become_one_segmentation_beside_the_input(mrmlScene, obliqueCt):
    node = VolumeNodeConverter.toNewNode(obliqueCt, "scan")
    labels = np.zeros(obliqueCt.shape, dtype=np.uint8)
    labels[:, :2] = 1
    labels[:, 3:5, 3:5] = 2
    result = (
        DenoiseLogic()
        .createDenoiseJob(node, "unet", lungStrength="low", bodyStrength="high")
        .importResults(DenoiseOutputs(obliqueCt, regions=obliqueCt.with_array(labels)))
    )
    segmentation = DenoiseLogic.regionsNode(result)
    assert DenoiseLogic.regionsNode(result) is segmentation  # made once
    assert segmentation.GetName() == "scan regions (denoising)"
    role = segmentation.GetReferenceImageGeometryReferenceRole()
    assert segmentation.GetNodeReference(role) is node
    assert segmentation.GetSegmentation().GetNumberOfSegments() == 3
    one = DenoiseLogic().createDenoiseJob(node, "unet").importResults(DenoiseOutputs(obliqueCt))
    assert DenoiseLogic.regionsNode(one) is None


def test_a_regions_file_off_the_inputs_grid_is_refused(tmp_path, obliqueCt):
    from ipv2.io.volumes import write_volume
    from ipv2.volume import Volume

    write_volume(obliqueCt, tmp_path / "denoised.nrrd")
    write_volume(
        Volume(np.zeros((1,) + obliqueCt.shape[1:], dtype=np.float32), spacing=obliqueCt.spacing),
        tmp_path / "regions.nrrd",
    )
    with pytest.raises(ValueError, match="regions volume is not on the input's voxel grid"):
        DenoiseLogic.readOutputs(tmp_path, obliqueCt)
