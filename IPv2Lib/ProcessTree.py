"""A started process and everything it started, found and ended together.

Slicer's `PythonSlicer` is a launcher (CTK AppLauncher) that runs the real interpreter as
its child and exits as soon as it gets SIGTERM, without passing it on. Ending only the
launcher leaves the backend running, still writing into the work folder. So a process tree
is the root process, every process in the root's process group (it is started as a session
and group leader, and children stay in its group unless they leave it), and every
descendant by parent pid of those, seen at any time while it was being ended. A process
that has exited (a zombie) no longer counts.

POSIX: processes are listed from /proc (Linux) or `ps` (macOS, BSD); psutil is used when
installed, but Slicer's Python does not bundle it. Windows: `taskkill /T /F`, which walks
the tree from the root, so it is used while the root is still alive.
"""

import os
import signal
import subprocess
from dataclasses import dataclass

try:
    import psutil
except ImportError:  # not in Slicer's Python unless another extension installed it
    psutil = None


@dataclass(frozen=True)
class ProcessEntry:
    pid: int
    parentPid: int
    groupId: int


def _procEntries():
    entries = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue  # ended while listing
        # "pid (command) state ppid pgrp ...": the command may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X"):
            entries.append(ProcessEntry(int(name), int(fields[1]), int(fields[2])))
    return entries


def _psEntries():
    output = subprocess.run(
        ["ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "pgid=", "-o", "stat="],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entries = []
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 4 and not fields[3].startswith("Z"):
            entries.append(ProcessEntry(int(fields[0]), int(fields[1]), int(fields[2])))
    return entries


def _psutilEntries():
    entries = []
    for process in psutil.process_iter(["pid", "ppid", "status"]):
        info = process.info
        if info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            groupId = os.getpgid(info["pid"]) if hasattr(os, "getpgid") else -1
        except OSError:
            continue
        entries.append(ProcessEntry(info["pid"], info["ppid"], groupId))
    return entries


def livingProcesses():
    """Every living process of this machine as (pid, parent pid, process group)."""
    if psutil is not None:
        return _psutilEntries()
    if os.path.isdir("/proc/self"):
        return _procEntries()
    return _psEntries()


def treeMembers(rootPid, knownPids=(), entries=None):
    """The living processes of the tree of `rootPid` (see the module docstring).

    `knownPids` are members seen earlier: their descendants count even after their parent
    ended and they were handed to init.
    """
    entries = livingProcesses() if entries is None else entries
    living = {entry.pid for entry in entries}
    members = {entry.pid for entry in entries if entry.groupId == rootPid}
    members |= {pid for pid in (rootPid, *knownPids) if pid in living}
    children = {}
    for entry in entries:
        children.setdefault(entry.parentPid, []).append(entry.pid)
    pending = list(members | {rootPid, *knownPids})
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in members:
                members.add(child)
                pending.append(child)
    return members


class ProcessTree:
    """Ends the tree of one started process, and tells when all of it has ended."""

    def __init__(self, rootPid):
        self.rootPid = rootPid
        self.seen = set()

    def members(self):
        found = treeMembers(self.rootPid, self.seen)
        self.seen |= found
        return found

    def terminate(self):
        """Asks every member to stop (SIGTERM: the backend turns it into a clean cancel)."""
        if os.name == "nt":
            self.kill()  # a GUI process has no console to send CTRL_BREAK through
            return
        self._signal(signal.SIGTERM)

    def kill(self):
        """Ends every member at once."""
        if os.name == "nt":
            subprocess.run(
                ["taskkill", "/F", "/T", "/PID", str(self.rootPid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            return
        self._signal(signal.SIGKILL)

    def alive(self):
        """True while any member is alive (on Windows, the tree is gone once taskkill ran and the root ended)."""
        if os.name == "nt":
            return False
        return bool(self.members())

    def _signal(self, signalNumber):
        for pid in self.members():
            try:
                os.kill(pid, signalNumber)
            except (ProcessLookupError, PermissionError):
                pass  # ended meanwhile
