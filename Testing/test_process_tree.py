"""Which processes belong to a started process's tree, on a hand-made process table."""

import os
import shutil
import subprocess
import sys

import pytest

from IPv2Lib.ProcessTree import ProcessEntry, _procEntries, _psEntries, livingProcesses, treeMembers

# (pid, parent pid, process group). The launcher 100 leads group 100.
TABLE = [
    ProcessEntry(*row)
    for row in (
        (1, 0, 1),  # init
        (100, 50, 100),  # the launcher
        (101, 100, 100),  # its child, the backend
        (102, 101, 102),  # a helper that left the group
        (103, 102, 102),  # ...and its child
        (104, 1, 100),  # an orphan handed to init, still in the group
        (105, 1, 105),  # an orphan in its own group, seen earlier as a member
        (106, 105, 105),  # ...and its child
        (200, 1, 200),  # unrelated
        (50, 1, 50),  # the application that started the launcher
    )
]


def test_tree_is_the_group_the_descendants_and_the_members_seen_before():
    assert treeMembers(100, knownPids={105}, entries=TABLE) == {100, 101, 102, 103, 104, 105, 106}


def test_an_orphan_out_of_the_group_is_found_only_when_seen_before():
    assert treeMembers(100, entries=TABLE) == {100, 101, 102, 103, 104}


def test_an_ended_launcher_still_leads_to_its_group():
    withoutLauncher = [entry for entry in TABLE if entry.pid != 100]
    assert treeMembers(100, knownPids={101}, entries=withoutLauncher) == {101, 102, 103, 104}


LISTINGS = [
    pytest.param(livingProcesses, id="default"),
    pytest.param(
        _procEntries, id="/proc", marks=pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc")
    ),
    pytest.param(_psEntries, id="ps", marks=pytest.mark.skipif(shutil.which("ps") is None, reason="no ps")),
]


@pytest.mark.skipif(os.name == "nt", reason="process groups are POSIX")
@pytest.mark.parametrize("listing", LISTINGS)
def test_the_live_table_holds_a_started_child_in_its_new_group(listing):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        entry = next(entry for entry in listing() if entry.pid == child.pid)
        assert (entry.parentPid, entry.groupId) == (os.getpid(), child.pid)
        assert treeMembers(child.pid) == {child.pid}
    finally:
        child.kill()
        child.wait()
    assert child.pid not in {entry.pid for entry in listing()}
