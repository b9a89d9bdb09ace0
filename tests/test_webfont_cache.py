"""The pages' font slices are cut once per machine: servers sharing the cache folder (a county's several,
the tests' parallel workers) cut under the folder's lock, and one that waited finds the slices made."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from server import webfont

from .conftest import ROOT


def _waiting_on(path) -> bool:
    """Whether some process waits for a lock on ``path`` (Linux /proc/locks marks waiters with ->)."""
    inode = os.stat(path).st_ino
    with open("/proc/locks", encoding="ascii") as f:
        return any("->" in line and f":{inode} " in line for line in f)


def test_a_server_that_waited_for_anothers_cut_cuts_nothing_again(tmp_path):
    parts = [webfont.Slice("core", frozenset("大厅AB"))]
    target = tmp_path / parts[0].filename
    with webfont._cut_lock(tmp_path):  # another server is cutting this folder's slices
        waiter = threading.Thread(target=webfont.cut_missing, args=(parts, tmp_path))
        waiter.start()
        deadline = time.time() + 60
        while not _waiting_on(tmp_path / ".cut.lock"):
            assert waiter.is_alive() and time.time() < deadline, "cut_missing did not wait for the lock"
            time.sleep(0.01)
        target.write_bytes(b"cut by the other server")  # ... which made the slice meanwhile
    waiter.join(60)
    assert target.read_bytes() == b"cut by the other server"  # found made: not cut a second time


def test_a_missing_slice_is_cut_under_the_lock(tmp_path):
    """In a process of its own, as in a server: the cutting child's helper processes end with it."""
    parts = [webfont.Slice("core", frozenset("大厅AB"))]
    code = ("import sys; from pathlib import Path; from server import webfont; "
            "webfont.cut_missing([webfont.Slice('core', frozenset('大厅AB'))], Path(sys.argv[1]))")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120,
                       cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / parts[0].filename).read_bytes()[:4] == b"wOF2"
    assert (tmp_path / ".cut.lock").exists()
