"""Torch and the backend's packages inside Slicer, installed on first use after asking.

Nothing here imports torch or the backend's packages: versions are read from the installed
packages' metadata, so the check costs nothing on Slicer's main thread.

- torch comes from the PyTorch extension (`PyTorchUtils`, which picks the CUDA or CPU
  build) and must satisfy `TORCH_REQUIREMENT`, the backend's own lower bound.
- The other packages are in IPv2Lib/Resources/requirements.txt (any of OpenCV's wheels
  meets the OpenCV line). Those missing are installed on Slicer 5.12+ through
  `slicer.packaging.pip_ensure` (it asks, installs with progress, raises `RuntimeError`
  when the user declines, and installs nothing in testing mode unless told to), before
  through `slicer.util.pip_install` after the same question.
"""

import importlib.metadata
import logging
from pathlib import Path

import slicer

TORCH_REQUIREMENT = ">=2.1"
REQUIREMENTS_FILE = Path(__file__).resolve().parent / "Resources" / "requirements.txt"
# Distributions that install the same module: OpenCV's four wheels all provide cv2, and a
# Slicer whose Python has one of them (other extensions install the GUI build) needs no
# second, which would overwrite the first's files.
SAME_MODULE_DISTRIBUTIONS = {
    "opencv-python-headless": ("opencv-python", "opencv-contrib-python", "opencv-contrib-python-headless"),
}


def installedVersion(packageName):
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(packageName)
    except importlib.metadata.PackageNotFoundError:
        return None


def requirementLines(path=REQUIREMENTS_FILE):
    """The requirement strings of a requirements file, comments and blank lines left out."""
    lines = (line.split("#", 1)[0].strip() for line in Path(path).read_text().splitlines())
    return [line for line in lines if line]


def unmetRequirements(requirements, versionOf=installedVersion):
    """The requirement strings that the installed packages do not satisfy (missing or too old).

    Pre-releases and local builds count as their version ("2.6.0+cu124" satisfies ">=2.1").
    A distribution of SAME_MODULE_DISTRIBUTIONS satisfies the requirement it stands for.
    """
    from packaging.requirements import Requirement

    unmet = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue  # not for this platform
        names = (requirement.name,) + SAME_MODULE_DISTRIBUTIONS.get(requirement.name.lower(), ())
        versions = [version for version in map(versionOf, names) if version is not None]
        if not any(requirement.specifier.contains(version, prereleases=True) for version in versions):
            unmet.append(line)
    return unmet


def torchProblem(version, requirement=TORCH_REQUIREMENT):
    """Why the installed torch (its version string, None when missing) cannot run the backend; None when it can."""
    if version is None:
        return "torch is not installed"
    if unmetRequirements([f"torch{requirement}"], versionOf=lambda name: version):
        return f"torch {version} is installed; IPv2 needs torch{requirement}"
    return None


class Dependencies:
    """Checks that Slicer's Python can run the backend; offers to install what is missing."""

    @staticmethod
    def missing():
        """What keeps the backend from running: the torch problem and the unmet requirements."""
        problem = torchProblem(installedVersion("torch"))
        return ([problem] if problem else []) + unmetRequirements(requirementLines())

    @staticmethod
    def ensureTorch(askConfirmation=True):
        """Installs or upgrades torch through the PyTorch extension; True once it satisfies the requirement."""
        problem = torchProblem(installedVersion("torch"))
        if problem is None:
            return True
        try:
            import PyTorchUtils
        except ModuleNotFoundError:
            slicer.util.errorDisplay(f"{problem}. Install the 'PyTorch' extension from the Extensions Manager, "
                                     "restart Slicer and try again.")
            return False
        torch = PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=askConfirmation,
                                                              torchVersionRequirement=TORCH_REQUIREMENT)
        if torch is None:
            return False  # declined, or the PyTorch extension reported the failure
        problem = torchProblem(installedVersion("torch"))
        if problem is not None:  # an older torch was already imported in this session
            slicer.util.errorDisplay(f"{problem}. Restart Slicer and try again.")
            return False
        return True

    @staticmethod
    def ensureRequirements(askConfirmation=True, installInTesting=False):
        """The packages of Resources/requirements.txt; False when the user declines.

        Only what `unmetRequirements` finds missing is handed on, so that a distribution of
        SAME_MODULE_DISTRIBUTIONS already installed counts."""
        missing = unmetRequirements(requirementLines())
        if not missing:
            return True
        try:
            import slicer.packaging as packaging
        except ImportError:  # Slicer before 5.12
            packaging = None
        if packaging is not None:
            try:
                packaging.pip_ensure(missing, requester="IPv2", prompt_install=askConfirmation,
                                     skip_in_testing=not installInTesting)
            except RuntimeError as error:  # the user declined
                logging.info(f"IPv2 packages not installed: {error}")
                return False
            return True
        if askConfirmation and not slicer.util.confirmOkCancelDisplay(
                "IPv2 needs these Python packages, which will be downloaded and installed now:\n"
                + "\n".join(missing), "Install Python packages"):
            return False
        with slicer.util.WaitCursor():
            slicer.util.pip_install(missing)
        logging.info("IPv2 installed %s", ", ".join(missing))
        return True

    @staticmethod
    def ensureAll(askConfirmation=True, installInTesting=False):
        """True when the backend can run; called on the first Apply and by the self-tests.

        In testing mode nothing is asked; packages are installed only with `installInTesting`.
        """
        if slicer.app.commandOptions().testingEnabled:
            askConfirmation = False
        return (Dependencies.ensureTorch(askConfirmation)
                and Dependencies.ensureRequirements(askConfirmation, installInTesting))
