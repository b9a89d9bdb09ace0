"""No test leaves a process running (hooks imported by tests/conftest.py).

Every process a test starts inherits ``KIOSK_TEST_OWNER`` (this pytest process's own token,
also under pytest-xdist, where each worker sets its own). When a test module is done (its
module-scoped fixtures are torn down), any process still alive that carries the token or
descends from this pytest process is a leftover: it is reported as an error in the teardown
of the module's last test, with its command line, and killed so it cannot disturb the rest
of the run. At the end of the session the same check covers session-scoped fixtures.

A fixture that must keep a process for the whole session (a PostgreSQL cluster, say)
registers it with ``allow_process(pid)``; its descendants are allowed too.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

TOKEN_VAR = "KIOSK_TEST_OWNER"
_token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
os.environ[TOKEN_VAR] = _token  # inherited by every child, grandchild and orphan
_marker = f"{TOKEN_VAR}={_token}".encode()
_allowed: set[int] = set()
# a child that was just told to stop gets this long to exit before it counts; tests/test_process_guard.py's
# inner runs, whose leftovers never exit by themselves, pass a shorter one
GRACE_S = float(os.environ.get("KIOSK_TEST_PROCESS_GRACE_S", "5.0"))


def allow_process(pid: int) -> None:
    """Keep ``pid`` (and what it starts) out of the check: a session-long helper process."""
    _allowed.add(pid)


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()  # the name may hold spaces and parentheses
    return rest[0].decode(), int(rest[1])  # state, parent pid


def _carries_token(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return _marker in f.read().split(b"\0")
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:300]
    except OSError:
        return "?"


def leftovers() -> dict[int, str]:
    """Live processes (not zombies) this pytest process started, directly or not: pid -> command."""
    me = os.getpid()
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                procs[int(name)] = st
    children: dict[int, list[int]] = {}
    for pid, (_, ppid) in procs.items():
        children.setdefault(ppid, []).append(pid)

    def subtree(root: int) -> set[int]:
        out, todo = set(), [root]
        while todo:
            p = todo.pop()
            for c in children.get(p, []):
                if c not in out:
                    out.add(c)
                    todo.append(c)
        return out

    allowed = set()
    for pid in _allowed:
        allowed |= {pid} | subtree(pid)
    mine = subtree(me) | {pid for pid in procs if pid != me and _carries_token(pid)}
    return {pid: _cmdline(pid) for pid in sorted(mine - allowed - {me})
            if procs[pid][0] != "Z" and pid not in _ancestors(me, procs)}


def _ancestors(pid: int, procs: dict) -> set[int]:
    out = set()
    while pid in procs and procs[pid][1] not in out and procs[pid][1] > 0:
        pid = procs[pid][1]
        out.add(pid)
    return out


def _settle() -> dict[int, str]:
    deadline = time.monotonic() + GRACE_S
    found = leftovers()
    while found and time.monotonic() < deadline:
        time.sleep(0.1)
        found = leftovers()
    return found


def _kill(found: dict[int, str]) -> None:
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid in found:  # reap our own children so they do not linger as zombies
        try:
            os.waitpid(pid, os.WNOHANG)
        except OSError:
            pass


def _describe(found: dict[int, str]) -> str:
    return "\n".join(f"  pid {pid}: {cmd}" for pid, cmd in found.items())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    # module-scoped fixtures are torn down in the teardown of the module's last test
    if nextitem is None or nextitem.module is not item.module:
        found = _settle()
        if found:
            _kill(found)
            raise AssertionError(f"{item.module.__name__} left processes running after its tests "
                                 f"(killed now):\n{_describe(found)}")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session, exitstatus):
    result = yield
    if getattr(session.config.option, "numprocesses", None) and not hasattr(session.config, "workerinput"):
        return result  # the xdist controller runs no tests; each worker checks its own
    found = _settle()
    if found:
        _kill(found)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"processes left running at the end of the session (killed now):\n"
                                f"{_describe(found)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return result
