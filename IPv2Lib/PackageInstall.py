"""What installing the backend's packages would change in a Python, asked of pip before anything is installed.

Slicer ships packages that its own modules and other extensions' binary wheels are built
against (Slicer 5.8.1 pins numpy 1.26.4, scipy 1.13.1 and pydicom 2.4.4 in
SuperBuild/External_python-*.cmake; SimpleITK, Pillow and VTK come with it too). Every pip
call made for IPv2 therefore carries a constraints file pinning the installed versions of
those packages, so pip picks releases of the new packages that work with them (for
CPython 3.9 and numpy 1.26.4, OpenCV 4.11 instead of a release that needs numpy 2), or fails
instead of replacing them. Before asking the user, pip resolves the install with
`--dry-run --report` and the answer lists exactly what would be installed or replaced.

Needs neither Slicer nor Qt: the resolution runs in a child process of the given Python.
"""

import importlib.metadata
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# Distributions a Slicer release ships in its Python: never upgraded or downgraded by IPv2.
SLICER_SHIPPED_DISTRIBUTIONS = ("numpy", "scipy", "SimpleITK", "pydicom", "pillow", "vtk")
CONSTRAINTS_FILE_NAME = "ipv2-constraints.txt"
RESOLVE_TIMEOUT_SECONDS = 600


class PackageInstallError(RuntimeError):
    """pip could not resolve or install the packages; the message says why."""


def installedVersion(distributionName):
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(distributionName)
    except importlib.metadata.PackageNotFoundError:
        return None


def constraintLines(versionOf=installedVersion, distributions=SLICER_SHIPPED_DISTRIBUTIONS):
    """ "name==version" for each shipped distribution that is installed."""
    lines = []
    for name in distributions:
        version = versionOf(name)
        if version is not None:
            lines.append(f"{name}=={version}")
    return lines


def writeConstraints(folder, lines):
    """The constraints file for pip's -c option, written in `folder`; returns its path."""
    path = Path(folder) / CONSTRAINTS_FILE_NAME
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


@dataclass(frozen=True)
class PlannedChange:
    name: str
    version: str
    installedVersion: Optional[str]

    def describe(self):
        if self.installedVersion is None:
            return f"{self.name} {self.version} (new)"
        return f"{self.name} {self.version} (replaces {self.installedVersion})"


def resolveArguments(requirements, constraintsFile, extraArguments=()):
    """The command line after `python -m` that resolves an install without installing."""
    return [
        "pip",
        "install",
        "--dry-run",
        "--quiet",
        "--report",
        "-",
        "--disable-pip-version-check",
        "-c",
        str(constraintsFile),
        *extraArguments,
        *requirements,
    ]


def plannedChanges(
    requirements,
    constraintsFile,
    python,
    extraArguments=(),
    versionOf=installedVersion,
    timeoutSeconds=RESOLVE_TIMEOUT_SECONDS,
):
    """What `pip install` of `requirements` under the constraints would install, in `python`.

    Raises PackageInstallError with pip's own message when it cannot resolve them (a
    requirement that conflicts with a pinned package, no registry, no matching release).
    """
    command = [str(python), "-m", *resolveArguments(requirements, constraintsFile, extraArguments)]
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            stdin=subprocess.DEVNULL,
            timeout=timeoutSeconds,
        )
    except subprocess.TimeoutExpired:
        raise PackageInstallError(f"pip did not resolve {', '.join(requirements)} within {timeoutSeconds} s") from None
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.splitlines() if line.strip()]
        raise PackageInstallError(
            "pip cannot install " + ", ".join(requirements) + " next to Slicer's packages:\n" + "\n".join(lines[-12:])
        )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise PackageInstallError(f"pip's install report could not be read: {completed.stdout[-500:]}") from None
    changes = []
    for item in report.get("install", []):
        metadata = item.get("metadata", {})
        name, version = metadata.get("name", "?"), metadata.get("version", "?")
        changes.append(PlannedChange(name, version, versionOf(name)))
    return changes


def replacedShippedPackages(changes, distributions=SLICER_SHIPPED_DISTRIBUTIONS):
    """The planned changes that would replace a package Slicer ships (none, under the constraints)."""
    shipped = {canonicalName(name) for name in distributions}
    return [
        change for change in changes if change.installedVersion is not None and canonicalName(change.name) in shipped
    ]


def canonicalName(name):
    """PEP 503's normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()
