"""The session's guard against tests that leave processes running (tests/process_guard.py)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONFTEST = "from tests.process_guard import pytest_runtest_teardown, pytest_sessionfinish  # noqa: F401\n"


def run_inner(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("KIOSK_TEST_OWNER", None)
    env["KIOSK_TEST_PROCESS_GRACE_S"] = "0.5"  # its leftovers sleep 600 s: no need to wait the usual 5 s
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           str(tmp_path)], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_module_that_leaves_a_child_and_an_orphan_fails_and_they_are_killed(tmp_path):
    out = run_inner(tmp_path, """
        import subprocess, sys

        def test_leaves_a_child():
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])

        def test_leaves_an_orphan():
            # a grandchild whose parent exits at once: reparented, found by the inherited token
            subprocess.run([sys.executable, "-c", "import subprocess, sys; "
                            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])"])
    """)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "left processes running" in out.stdout and "time.sleep(600)" in out.stdout, out.stdout
    assert "2 passed, 1 error" in out.stdout, out.stdout
    # a set: with CI set, pytest's short summary repeats the whole message
    reported = {int(line.split("pid ")[1].split(":")[0]) for line in out.stdout.splitlines() if "  pid " in line}
    assert len(reported) == 2 and not any(alive(p) for p in reported), out.stdout


def test_a_module_that_waits_for_its_children_passes(tmp_path):
    out = run_inner(tmp_path, """
        import subprocess, sys

        def test_waits():
            p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
            p.wait()

        def test_stops_what_it_started():
            p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            p.terminate()
            p.wait()
    """)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout and "left processes" not in out.stdout
