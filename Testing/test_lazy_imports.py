"""Loading the modules imports nothing heavy: Slicer imports every module file at start-up."""

import ast
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
HEAVY = ("SimpleITK", "torch", "scipy", "skimage", "cv2", "pydicom", "matplotlib", "finufft", "bm3d")


def libraryImportsOfModuleFiles():
    names = set()
    for module in ("IPv2Purify", "IPv2Denoise"):
        tree = ast.parse((REPOSITORY / module / f"{module}.py").read_text())
        for node in tree.body:  # module level only: what Slicer runs when it loads the file
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("IPv2Lib", "ipv2"):
                names.add(node.module)
    return sorted(names)


def test_the_module_files_load_without_heavy_packages():
    imported = libraryImportsOfModuleFiles()
    assert "IPv2Lib.DenoiseLogic" in imported and "IPv2Lib.PurifyLogic" in imported
    script = (
        f"import importlib, sys\nfor name in {imported!r}: importlib.import_module(name)\n"
        f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip() == "[]"
