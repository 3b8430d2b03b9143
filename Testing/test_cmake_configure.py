"""The extension's CMake configures, and installs the tree the modules expect at run time.

Configured with `Testing/cmake/SlicerConfig.cmake` as `Slicer_DIR`: by default its
stand-ins of Slicer's macros (same keywords, same refusals, same installed layout), or,
with IPV2_SLICER_SOURCE_DIR and IPV2_CTK_SOURCE_DIR set to Slicer and CTK source trees,
their real macro files. The stand-in run catches what stops a configure (an unknown command,
a listed file that does not exist) and a file left out of the install; it is no substitute
for building against a Slicer build.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SCRIPTED_MODULES = "lib/Slicer-5.12/qt-scripted-modules"

cmake = shutil.which("cmake")
pytestmark = pytest.mark.skipif(cmake is None, reason="cmake is not installed")


def run(*arguments):
    completed = subprocess.run([cmake, *arguments], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


def configureAndInstall(buildFolder, *options, build=False):
    """Configures (and builds, when asked) in `buildFolder`; returns the installed scripted-modules folder."""
    run("-S", str(REPOSITORY), "-B", str(buildFolder), f"-DSlicer_DIR={REPOSITORY / 'Testing' / 'cmake'}", *options)
    if build:
        run("--build", str(buildFolder))
    installFolder = buildFolder / "install"
    run("--install", str(buildFolder), "--prefix", str(installFolder))
    return installFolder / SCRIPTED_MODULES


def expectedInstalledFiles():
    """What the modules open at run time, relative to the scripted-modules folder."""
    files = {"IPv2Purify.py", "IPv2Denoise.py", "Scripts/IPv2BatchDenoise.py", "Resources/requirements.txt"}
    files |= {f"Resources/SampleData/{path.name}" for path in (REPOSITORY / "IPv2Purify" / "Resources" / "SampleData").glob("*.nrrd")}
    for module in ("IPv2Purify", "IPv2Denoise"):
        files |= {f"Resources/UI/{module}.ui", f"Resources/Icons/{module}.png"}
    files |= {f"IPv2Lib/{path.name}" for path in (REPOSITORY / "IPv2Purify" / "IPv2Lib").glob("*.py")}
    files |= {path.relative_to(REPOSITORY).as_posix() for path in (REPOSITORY / "ipv2").rglob("*.py")}
    files |= {f"Resources/Models/{path.name}" for path in (REPOSITORY / "Resources" / "Models").glob("*.safetensors")}
    return files


def installedFiles(folder):
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}


def test_extension_configures_and_installs_every_runtime_file(tmp_path):
    installed = configureAndInstall(tmp_path / "build")
    missing = expectedInstalledFiles() - installedFiles(installed)
    assert not missing, f"not installed: {sorted(missing)}"
    assert (tmp_path / "build" / "IPv2Config.cmake").is_file()


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


@pytest.mark.skipif(not (os.environ.get("IPV2_SLICER_SOURCE_DIR") and os.environ.get("IPV2_CTK_SOURCE_DIR")),
                    reason="set IPV2_SLICER_SOURCE_DIR and IPV2_CTK_SOURCE_DIR to use Slicer's and CTK's macros")
def test_extension_configures_with_slicers_own_macros(tmp_path):
    installed = configureAndInstall(tmp_path / "build", f"-DIPV2_SLICER_SOURCE_DIR={os.environ['IPV2_SLICER_SOURCE_DIR']}",
                                    f"-DIPV2_CTK_SOURCE_DIR={os.environ['IPV2_CTK_SOURCE_DIR']}", build=True)
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
            assert (REPOSITORY / url[len(filesUrl):]).is_file(), f"{key} {url} names no file of the repository"
    catalogEntry = json.loads((REPOSITORY / "ExtensionsIndex" / "IPv2.json").read_text())
    assert catalogEntry["scm_url"] == homepage + ".git"
    assert catalogEntry["category"] == description["category"]
    assert catalogEntry["build_dependencies"] == description["depends"].split()
    assert f"href='{homepage}'" in (REPOSITORY / "IPv2Purify" / "IPv2Purify.py").read_text()
