"""Torch and the backend's packages inside Slicer, installed on first use after asking."""

import importlib.util
import logging
from pathlib import Path

import slicer

TORCH_REQUIREMENT = ">=2.1"
REQUIREMENTS_FILE = Path(__file__).resolve().parents[1] / "Resources" / "requirements.txt"


class Dependencies:
    """Checks that Slicer's Python can run the backend; offers to install what is missing."""

    @staticmethod
    def torchInstalled():
        return importlib.util.find_spec("torch") is not None

    @staticmethod
    def ensureTorch(askConfirmation=True):
        """Installs torch through the PyTorch extension (it picks the CUDA or CPU build)."""
        if Dependencies.torchInstalled():
            return True
        try:
            import PyTorchUtils
        except ModuleNotFoundError:
            slicer.util.errorDisplay("IPv2 needs the PyTorch extension. Install 'PyTorch' from the Extensions "
                                     "Manager, restart Slicer and try again.")
            return False
        torch = PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=askConfirmation,
                                                              torchVersionRequirement=TORCH_REQUIREMENT)
        return torch is not None

    @staticmethod
    def missingRequirements():
        from packaging.requirements import Requirement
        from importlib.metadata import PackageNotFoundError, version

        missing = []
        for line in REQUIREMENTS_FILE.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            requirement = Requirement(line)
            try:
                if version(requirement.name) not in requirement.specifier:
                    missing.append(line)
            except PackageNotFoundError:
                missing.append(line)
        return missing

    @staticmethod
    def ensureRequirements(askConfirmation=True):
        """The backend's other packages: `slicer.pydeps.pip_ensure` where Slicer has it, else pip_install."""
        try:
            import slicer.pydeps as pydeps
        except ImportError:
            pydeps = None
        if pydeps is not None:
            pydeps.pip_ensure(pydeps.load_requirements(str(REQUIREMENTS_FILE)), requester="IPv2",
                              skip_packages=["torch", "SimpleITK"])
            return True
        missing = Dependencies.missingRequirements()
        if not missing:
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
    def ensureAll(askConfirmation=True):
        """True when the backend can run; shown as one step on the first Apply."""
        if slicer.app.commandOptions().testingEnabled:
            askConfirmation = False
        return Dependencies.ensureTorch(askConfirmation) and Dependencies.ensureRequirements(askConfirmation)
