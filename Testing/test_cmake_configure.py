"""The extension's CMake configures, and installs the tree the modules expect at run time.

Configured with `Testing/cmake/SlicerConfig.cmake` as `Slicer_DIR`: by default its
stand-ins of Slicer's macros (same keywords, same refusals, same installed layout), or,
with IPV2_SLICER_SOURCE_DIR and IPV2_CTK_SOURCE_DIR set to Slicer and CTK source trees,
their real macro files. The stand-in run catches what stops a configure (an unknown command,
a listed file that does not exist) and a file left out of the install; it is no substitute
for building against a Slicer build.
"""

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SCRIPTED_MODULES = "lib/Slicer-5.12/qt-scripted-modules"

cmake = shutil.which("cmake")
pytestmark = pytest.mark.skipif(cmake is None, reason="cmake is not installed")


def run(*arguments):
    completed = subprocess.run([cmake, *arguments], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


def configureAndInstall(buildFolder, *options, build=False, installLog=None):
    """Configures (and builds, when asked) in `buildFolder`; returns the installed scripted-modules folder.

    `installLog`: a list that receives the lines cmake --install printed.
    """
    run("-S", str(REPOSITORY), "-B", str(buildFolder), f"-DSlicer_DIR={REPOSITORY / 'Testing' / 'cmake'}", *options)
    if build:
        run("--build", str(buildFolder))
    installFolder = buildFolder / "install"
    output = run("--install", str(buildFolder), "--prefix", str(installFolder))
    if installLog is not None:
        installLog.extend(output.splitlines())
    return installFolder / SCRIPTED_MODULES


def expectedInstalledFiles():
    """What the modules open at run time, relative to the scripted-modules folder."""
    files = {"IPv2Purify.py", "IPv2Denoise.py", "Scripts/IPv2BatchDenoise.py"}
    for module in ("IPv2Purify", "IPv2Denoise"):
        files |= {f"Resources/UI/{module}.ui", f"Resources/Icons/{module}.png"}
    library = REPOSITORY / "IPv2Lib"
    files |= {
        f"IPv2Lib/{path.relative_to(library).as_posix()}"
        for path in library.rglob("*")
        if path.is_file()
        and path.suffix in (".py", ".txt", ".nrrd")
        and path.name != "CMakeLists.txt"
        and "__pycache__" not in path.parts
    }
    files |= {path.relative_to(REPOSITORY).as_posix() for path in (REPOSITORY / "ipv2").rglob("*.py")}
    files |= {f"Resources/Models/{path.name}" for path in (REPOSITORY / "Resources" / "Models").glob("*.safetensors")}
    return files


def installedFiles(folder):
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_extension_configures_and_installs_every_runtime_file(tmp_path):
    installed = configureAndInstall(tmp_path / "build")
    missing = expectedInstalledFiles() - installedFiles(installed)
    assert not missing, f"not installed: {sorted(missing)}"
    assert (tmp_path / "build" / "IPv2Config.cmake").is_file()


def test_each_backend_file_is_installed_once_and_a_deleted_one_not_at_all(tmp_path):
    """Slicer's macros install the build tree's scripted-modules folder whole: a backend copied
    there and installed again would be installed twice, and a file deleted from the source
    would stay in the package until a clean build."""
    log = []
    installed = configureAndInstall(tmp_path / "build", installLog=log)
    counts = {}
    for line in log:
        match = re.match(r"-- (?:Installing|Up-to-date): (.*)$", line)
        if match:
            path = Path(match.group(1)).relative_to(installed.parents[2]).as_posix()
            counts[path] = counts.get(path, 0) + 1
    backend = {
        path: count
        for path, count in counts.items()
        if path.startswith(f"{SCRIPTED_MODULES}/ipv2/") or path.startswith(f"{SCRIPTED_MODULES}/Resources/Models/")
    }
    assert f"{SCRIPTED_MODULES}/ipv2/__init__.py" in backend
    assert all(count == 1 for count in backend.values()), {path: n for path, n in backend.items() if n > 1}
    assert not (tmp_path / "build" / SCRIPTED_MODULES / "ipv2").exists(), "the backend is copied into the build tree"


def test_the_package_carries_the_extensions_own_licence_and_readme(tmp_path):
    configureAndInstall(tmp_path / "build")
    packaged = dict(
        line.split(" ", 1) for line in (tmp_path / "build" / "CPackResourceFiles.txt").read_text().splitlines()
    )
    assert Path(packaged["license"]) == REPOSITORY / "LICENSE"
    assert Path(packaged["readme"]) == REPOSITORY / "README.md"


def realMacroOptions():
    """The options that configure with Slicer's and CTK's macro files, when their sources are given."""
    slicerSource, ctkSource = os.environ.get("IPV2_SLICER_SOURCE_DIR"), os.environ.get("IPV2_CTK_SOURCE_DIR")
    if not (slicerSource and ctkSource):
        return []
    return [f"-DIPV2_SLICER_SOURCE_DIR={slicerSource}", f"-DIPV2_CTK_SOURCE_DIR={ctkSource}"]


def libraryImportsOfModules(folder):
    """The `IPv2Lib.X` modules that the installed module files import."""
    names = set()
    for moduleFile in ("IPv2Purify.py", "IPv2Denoise.py"):
        for node in ast.walk(ast.parse((folder / moduleFile).read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("IPv2Lib."):
                names.add(node.module)
    return sorted(names)


@pytest.mark.skipif(importlib.util.find_spec("slicer") is None, reason="the slicer-core wheel (test extras) is needed")
def test_both_modules_import_the_library_installed_beside_them(tmp_path):
    """Slicer puts the scripted-modules folder on sys.path for the modules in it; that folder alone must do.

    Installed with Slicer's and CTK's own macros when their sources are given (see above).
    """
    installed = configureAndInstall(tmp_path / "build", *realMacroOptions(), build=bool(realMacroOptions()))
    imported = libraryImportsOfModules(installed)
    assert {"IPv2Lib.DenoiseLogic", "IPv2Lib.TrainLogic", "IPv2Lib.EvaluateLogic", "IPv2Lib.PurifyLogic"} <= set(
        imported
    )
    script = "\n".join(
        [
            "import importlib, sys",
            f"modules = [importlib.import_module(name) for name in {imported!r}]",
            "import ipv2, IPv2Lib, IPv2Lib.Dependencies as d, IPv2Lib.SamplePair as s",
            "print(IPv2Lib.__file__); print(ipv2.__file__)",
            "print(d.REQUIREMENTS_FILE.is_file(), "
            "all((s.SAMPLE_FOLDER / name).is_file() for name, _ in s.SAMPLE_FILES))",
        ]
    )
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment["PYTHONPATH"] = str(installed)
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=environment
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    libraryFile, backendFile, resourcesFound = completed.stdout.split("\n")[:3]
    assert Path(libraryFile) == installed / "IPv2Lib" / "__init__.py"
    assert Path(backendFile) == installed / "ipv2" / "__init__.py"
    assert resourcesFound == "True True"


def test_description_generated_by_cmake_matches_the_s4ext_file(tmp_path):
    configureAndInstall(tmp_path / "build")
    generated = generatedDescription(tmp_path / "build")
    stored = {}
    for line in (REPOSITORY / "IPv2.s4ext").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            stored[key] = value.strip()
    for key, value in generated.items():
        assert stored.get(key) == value.strip(), f"IPv2.s4ext '{key}' differs from CMakeLists.txt"


@pytest.mark.skipif(
    not (os.environ.get("IPV2_SLICER_SOURCE_DIR") and os.environ.get("IPV2_CTK_SOURCE_DIR")),
    reason="set IPV2_SLICER_SOURCE_DIR and IPV2_CTK_SOURCE_DIR to use Slicer's and CTK's macros",
)
def test_extension_configures_with_slicers_own_macros(tmp_path):
    installed = configureAndInstall(tmp_path / "build", *realMacroOptions(), build=True)
    missing = expectedInstalledFiles() - installedFiles(installed)
    assert not missing, f"not installed: {sorted(missing)}"


def generatedDescription(buildFolder):
    return dict(line.split(" ", 1) for line in (buildFolder / "IPv2.s4ext").read_text().splitlines())


def test_every_url_is_the_one_cmake_sets_and_every_image_exists(tmp_path):
    configureAndInstall(tmp_path / "build")
    description = generatedDescription(tmp_path / "build")
    homepage = description["homepage"]
    filesUrl = homepage.replace("https://github.com/", "https://raw.githubusercontent.com/") + "/main/"
    for key in ("iconurl", "screenshoturls"):
        for url in description[key].split():
            assert url.startswith(filesUrl), f"{key} {url} is not in the repository"
            assert (REPOSITORY / url[len(filesUrl) :]).is_file(), f"{key} {url} names no file of the repository"
    catalogEntry = json.loads((REPOSITORY / "ExtensionsIndex" / "IPv2.json").read_text())
    assert catalogEntry["scm_url"] == homepage + ".git"
    assert catalogEntry["category"] == description["category"]
    assert catalogEntry["build_dependencies"] == description["depends"].split()
    for module in ("IPv2Purify", "IPv2Denoise"):
        text = (REPOSITORY / module / f"{module}.py").read_text()
        assert f"href='{homepage}/blob/main/docs/slicer.md'" in text, f"{module}'s help does not link the documentation"
        assert "research use only" in text.lower(), f"{module}'s help does not state the research-use limit"
