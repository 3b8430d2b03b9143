"""Torch and the backend's packages inside Slicer, installed on first use after asking.

Nothing here imports torch or the backend's packages: versions are read from the installed
packages' metadata, so the check costs nothing on Slicer's main thread.

- torch comes from the PyTorch extension (`PyTorchUtils`, which picks the CUDA or CPU
  build). The installed torch must satisfy `TORCH_REQUIREMENT`, the backend's own bound;
  what IPv2 asks the extension to install is `TORCH_INSTALL_REQUIREMENT`.
- The other packages are in IPv2Lib/Resources/requirements.txt (any of OpenCV's wheels
  meets the OpenCV line). Those missing are installed with a constraints file that pins the
  packages Slicer ships (`PackageInstall`), after a dialog that lists exactly what pip would
  install or replace: on Slicer 5.12+ through `slicer.packaging.pip_install`, before through
  `slicer.util.pip_install` with pip's own `-c` option.
- In testing mode nothing is installed and nothing is asked: the self-tests skip with one
  line when the packages are missing, on every Slicer version.
- In batch mode (`interactive=False`) nothing opens a dialog and a failure raises.
"""

import contextlib
import logging
import tempfile
from pathlib import Path

from IPv2Lib.PackageInstall import (
    PackageInstallError,
    constraintLines,
    installedVersion,
    plannedChanges,
    replacedShippedPackages,
    writeConstraints,
)

# The backend's own lower bound (pyproject.toml): an installed torch must satisfy it.
TORCH_REQUIREMENT = ">=2.1"
# What IPv2 asks the PyTorch extension to install. torch 2.13 breaks the Python of Slicer
# 5.12.2 on Windows (light-the-torch issue #176, whose workaround is this bound); lift it once
# that is fixed.
TORCH_INSTALL_REQUIREMENT = ">=2.1,<2.13"
REQUIREMENTS_FILE = Path(__file__).resolve().parent / "Resources" / "requirements.txt"
REQUESTER = "IPv2"
# Distributions that install the same module: OpenCV's four wheels all provide cv2, and a
# Slicer whose Python has one of them (other extensions install the GUI build) needs no
# second, which would overwrite the first's files.
SAME_MODULE_DISTRIBUTIONS = {
    "opencv-python-headless": ("opencv-python", "opencv-contrib-python", "opencv-contrib-python-headless"),
}


class DependencyError(RuntimeError):
    """The backend cannot run in this Slicer yet; the message says what is missing and what to do."""


class DependencyDeclined(DependencyError):
    """The user declined an installation."""


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


def testingEnabled():
    """Whether Slicer runs its self-tests (False outside the Slicer application)."""
    import slicer

    application = getattr(slicer, "app", None)
    return bool(application is not None and application.testingEnabled())


def confirmationText(changes):
    """The question asked before installing: every package pip would install or replace."""
    return (
        "IPv2 needs Python packages that Slicer does not have. pip will download and install:\n\n"
        + "\n".join(f"- {change.describe()}" for change in changes)
        + "\n\nNo package that Slicer ships is changed. This may take a few minutes. Continue?"
    )


class Dependencies:
    """Checks that Slicer's Python can run the backend; offers to install what is missing."""

    @staticmethod
    def missing():
        """What keeps the backend from running: the torch problem and the unmet requirements."""
        problem = torchProblem(installedVersion("torch"))
        return ([problem] if problem else []) + unmetRequirements(requirementLines())

    @staticmethod
    def skipReason():
        """One line saying why a self-test cannot run (None when it can): tests never install packages."""
        missing = Dependencies.missing()
        if not missing:
            return None
        return (
            "IPv2 self-test skipped: Slicer's Python lacks "
            + "; ".join(missing)
            + " (run IPv2 once outside testing mode to install them)"
        )

    @staticmethod
    def installTorch(interactive=True):
        """Installs torch through the PyTorch extension unless it satisfies the backend; raises DependencyError."""
        problem = torchProblem(installedVersion("torch"))
        if problem is None:
            return
        try:
            import PyTorchUtils
        except ModuleNotFoundError:
            raise DependencyError(
                f"{problem}. Install the 'PyTorch' extension from the Extensions Manager, restart Slicer and try again."
            ) from None
        torch = PyTorchUtils.PyTorchUtilsLogic().installTorch(
            askConfirmation=interactive, torchVersionRequirement=TORCH_INSTALL_REQUIREMENT
        )
        if torch is None:
            raise DependencyDeclined("torch was not installed")
        problem = torchProblem(installedVersion("torch"))
        if problem is not None:  # an older torch was already imported in this session
            raise DependencyError(f"{problem}. Restart Slicer and try again.")

    @staticmethod
    def installRequirements(interactive=True, python=None):
        """Installs the unmet requirements under the constraints, after asking when `interactive`.

        Raises DependencyDeclined when the user says no, DependencyError when pip cannot
        install them next to Slicer's packages.
        """
        missing = unmetRequirements(requirementLines())
        if not missing:
            return
        import slicer

        from IPv2Lib.BackendProcess import slicerPython

        with tempfile.TemporaryDirectory(prefix="IPv2-pip-") as folder:
            constraints = writeConstraints(folder, constraintLines())
            try:
                # pip resolves over the network; no dialog is open
                with slicer.util.WaitCursor() if interactive else contextlib.nullcontext():
                    changes = plannedChanges(missing, constraints, python or slicerPython())
            except PackageInstallError as error:
                raise DependencyError(str(error)) from None
            replaced = replacedShippedPackages(changes)
            if replaced:  # pip honours -c; this is the last line of defence
                raise DependencyError(
                    "installing would replace packages Slicer ships: "
                    + ", ".join(change.describe() for change in replaced)
                )
            if interactive and not slicer.util.confirmOkCancelDisplay(
                confirmationText(changes), f"{REQUESTER} - Install Python packages"
            ):
                raise DependencyDeclined("the Python packages were not installed")
            Dependencies._pipInstall(missing, constraints, interactive)
        logging.info("IPv2 installed %s", ", ".join(change.describe() for change in changes))
        still = unmetRequirements(requirementLines())
        if still:
            raise DependencyError(
                f"after installing, these are still not met: {', '.join(still)}. Restart Slicer and try again."
            )

    @staticmethod
    def _pipInstall(requirements, constraints, interactive):
        """One pip call with the constraints: progress dialog when interactive (5.12+), never a dialog in batch."""
        import slicer

        try:
            import slicer.packaging as packaging
        except ImportError:  # Slicer before 5.12: pip's own arguments, run without any dialog
            slicer.util.pip_install(["-c", str(constraints), *requirements])
            return
        packaging.pip_install(
            list(requirements), constraints=str(constraints), show_progress=interactive, requester=REQUESTER
        )

    @staticmethod
    def ensureAll(interactive=True):
        """True when the backend can run; installs what is missing first (called on the first Apply).

        In testing mode nothing is installed: the result says whether the backend can run as it is.
        A declined install returns False; any other problem is shown when interactive, else raised.
        """
        if testingEnabled():
            return not Dependencies.missing()
        try:
            Dependencies.installTorch(interactive)
            Dependencies.installRequirements(interactive)
        except DependencyDeclined as declined:
            logging.info(f"IPv2 packages not installed: {declined}")
            if not interactive:
                raise
            return False
        except DependencyError as error:
            if not interactive:
                raise
            import slicer

            slicer.util.errorDisplay(str(error))
            return False
        return True
