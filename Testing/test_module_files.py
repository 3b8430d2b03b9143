"""Consistency of the scripted modules' files, checked without the Slicer application.

The panels themselves run only inside Slicer (their self-tests cover them there); what can
break silently outside it is checked here: the Python compiles, every widget the code
reaches through `self.ui` exists in the `.ui` file, every `SlicerParameterName` names a
field of the module's parameter node, and every file the module needs is listed for the
CMake build (a file left out is missing from the installed extension).
"""

import ast
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
MODULES = ("IPv2Purify", "IPv2Denoise")


def _ui_tree(module: str) -> ElementTree.Element:
    return ElementTree.parse(REPOSITORY / module / "Resources" / "UI" / f"{module}.ui").getroot()


def _widget_names(root: ElementTree.Element) -> set:
    return {widget.get("name") for widget in root.iter("widget")}


def _parameter_names(root: ElementTree.Element) -> set:
    names = set()
    for prop in root.iter("property"):
        if prop.get("name") == "SlicerParameterName":
            names.add(prop.findtext("string"))
    return names


def _parameter_node_fields(module: str) -> set:
    tree = ast.parse((REPOSITORY / module / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == f"{module}ParameterNode":
            return {item.target.id for item in node.body if isinstance(item, ast.AnnAssign)}
    raise AssertionError(f"{module}.py defines no {module}ParameterNode")


def _cmake_listed_files(module: str) -> set:
    text = (REPOSITORY / module / "CMakeLists.txt").read_text().replace("${MODULE_NAME}", module)
    return set(re.findall(r"^\s+([\w/.]+\.(?:py|ui|png|txt|nrrd))\s*$", text, flags=re.MULTILINE))


@pytest.mark.parametrize("module", MODULES)
def test_module_python_compiles(module):
    for path in sorted((REPOSITORY / module).rglob("*.py")):
        compile(path.read_text(), str(path), "exec")


@pytest.mark.parametrize("module", MODULES)
def test_every_widget_the_code_uses_is_in_the_ui_file(module):
    used = set(re.findall(r"self\.ui\.(\w+)", (REPOSITORY / module / f"{module}.py").read_text()))
    missing = used - _widget_names(_ui_tree(module))
    assert used and not missing, f"{module}.ui lacks {sorted(missing)}"


@pytest.mark.parametrize("module", MODULES)
def test_ui_parameters_bind_to_parameter_node_fields(module):
    bound = _parameter_names(_ui_tree(module))
    unknown = bound - _parameter_node_fields(module)
    assert bound and not unknown, f"{module}.ui binds unknown parameters {sorted(unknown)}"


def test_every_shared_library_file_is_installed():
    library = REPOSITORY / "IPv2Lib"
    shipped = {
        path.relative_to(library).as_posix()
        for path in library.rglob("*")
        if path.is_file()
        and path.suffix in (".py", ".txt", ".nrrd")
        and path.name != "CMakeLists.txt"
        and "__pycache__" not in path.parts
    }
    text = (library / "CMakeLists.txt").read_text()
    listed = set(re.findall(r"^\s+([\w/.]+\.(?:py|txt|nrrd))\s*$", text, flags=re.MULTILINE))
    assert "__init__.py" in listed and "WITH_SUBDIR" in text
    missing = shipped - listed
    assert not missing, f"IPv2Lib/CMakeLists.txt does not install {sorted(missing)}"
    assert not listed - shipped, f"IPv2Lib/CMakeLists.txt lists missing {sorted(listed - shipped)}"


def test_no_module_or_script_edits_sys_path():
    """IPv2Lib is found as a package beside the modules (Slicer puts their folder on sys.path)."""
    for path in REPOSITORY.glob("IPv2*/**/*.py"):
        text = path.read_text()
        assert "sys.path.insert" not in text and "sys.path.append" not in text, (
            f"{path.relative_to(REPOSITORY)} edits sys.path"
        )


@pytest.mark.parametrize("module", MODULES)
def test_module_resources_exist_and_are_listed(module):
    listed = _cmake_listed_files(module)
    for name in (f"{module}.py", f"Resources/UI/{module}.ui", f"Resources/Icons/{module}.png"):
        assert name in listed, f"{module}/CMakeLists.txt does not list {name}"
    for name in listed:
        assert (REPOSITORY / module / name).is_file(), f"{module}/CMakeLists.txt lists missing {name}"


@pytest.mark.parametrize("module", MODULES)
def test_widgets_take_a_new_parameter_node_after_close_scene(module):
    """File > Close Scene removes the parameter node; a widget that does not take a new one stops working."""
    tree = ast.parse((REPOSITORY / module / f"{module}.py").read_text())
    widget = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == f"{module}Widget")
    methods = {node.name: ast.unparse(node) for node in widget.body if isinstance(node, ast.FunctionDef)}
    observed = re.findall(r"EndCloseEvent, self\.(\w+)", methods["setup"])
    assert observed, f"{module}Widget does not observe the end of Close Scene"
    assert "getParameterNode()" in methods[observed[0]] or "initializeParameterNode()" in methods[observed[0]]


@pytest.mark.parametrize("module", MODULES)
def test_self_tests_skip_instead_of_installing(module):
    """A self-test never installs into the Slicer under test: it asks only why it cannot run."""
    tree = ast.parse((REPOSITORY / module / f"{module}.py").read_text())
    testClass = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == f"{module}Test")
    source = ast.unparse(testClass)
    assert "Dependencies.skipReason()" in source
    assert "ensureAll" not in source and "install" not in source.replace("never install", "")


@pytest.mark.parametrize("module", MODULES)
def test_no_wait_cursor_covers_a_dialog(module):
    """Apply may ask to install packages, or whether to replace a file: no wait cursor over those questions."""
    text = (REPOSITORY / module / f"{module}.py").read_text()
    assert "waitCursor=True" not in text and "WaitCursor()" not in text


def test_training_never_changes_what_denoise_uses():
    """After training the Method the user sees stays in force: the checkpoint field is left as it was."""
    tree = ast.parse((REPOSITORY / "IPv2Denoise" / "IPv2Denoise.py").read_text())
    widget = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "IPv2DenoiseWidget")
    showCheckpoint = next(
        node for node in widget.body if isinstance(node, ast.FunctionDef) and node.name == "showCheckpoint"
    )
    assigned = [
        ast.unparse(target)
        for node in ast.walk(showCheckpoint)
        if isinstance(node, ast.Assign)
        for target in node.targets
    ]
    assert not any("checkpointPathLineEdit" in target for target in assigned)
