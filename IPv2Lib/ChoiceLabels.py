"""Combo boxes that show a label for each code while the parameter node stores the code.

Slicer's parameter node connector for a `str` field with a `Choice` fills the combo box with
the choices as text, in their order, and reads and writes the field by the current index, never
by the text (`QComboBoxToStringableConnector`, Base/Python/slicer/parameterNodeWrapper/
guiConnectors.py, the same in 5.8.1, 5.10.0 and 5.12.3). So the item texts can be replaced by
labels once the connector has filled the box, and again each time `connectGui` refills it.

Qt-free apart from duck typing: a combo box offers `count`, `setItemText` and `setItemData`.
"""

from ipv2.contract import CHOICE_LABELS, STRENGTH_DOSE_MULTIPLES

TOOL_TIP_ROLE = 3  # Qt::ToolTipRole


def labelOf(code):
    return CHOICE_LABELS.get(code, code)


def strengthToolTip(strength):
    """What a strength level means, as `ipv2 denoise --strength` takes it."""
    return f"The result looks like a scan at {STRENGTH_DOSE_MULTIPLES[strength]:g}x the input's dose."


def showLabels(comboBox, codes, toolTipOf=None):
    """Shows the label of each of `codes` (the box's items, in order); `toolTipOf(code)`, when
    given, is each item's tool tip."""
    if comboBox.count != len(codes):
        raise ValueError(f"the combo box holds {comboBox.count} items, not the {len(codes)} choices {list(codes)}")
    for index, code in enumerate(codes):
        comboBox.setItemText(index, labelOf(code))
        if toolTipOf is not None:
            comboBox.setItemData(index, toolTipOf(code), TOOL_TIP_ROLE)


def showAllLabels(ui, codesByComboBox, toolTipsByComboBox=None):
    """`showLabels` for each combo box named in `codesByComboBox` ({widget name: codes})."""
    toolTipsByComboBox = toolTipsByComboBox or {}
    for name, codes in codesByComboBox.items():
        showLabels(getattr(ui, name), codes, toolTipsByComboBox.get(name))
