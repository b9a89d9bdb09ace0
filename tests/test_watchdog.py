"""sd_notify over a real AF_UNIX datagram socket, as systemd listens for it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from kiosk import watchdog

from .conftest import ROOT


@pytest.fixture
def systemd_socket(tmp_path, monkeypatch):
    """A datagram socket standing in for systemd's; NOTIFY_SOCKET points at it."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_ready_and_ping_arrive(systemd_socket):
    assert watchdog.ready() is True
    assert systemd_socket.recv(4096) == b"READY=1"
    assert watchdog.ping() is True
    assert systemd_socket.recv(4096) == b"WATCHDOG=1"
    assert watchdog.ready("叫号中") is True
    assert systemd_socket.recv(4096).decode() == "READY=1\nSTATUS=叫号中"
    assert watchdog.stopping() is True
    assert systemd_socket.recv(4096) == b"STOPPING=1"


def test_abstract_namespace_socket(monkeypatch):
    name = f"hall-kiosk-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert watchdog.ping() is True
        assert sock.recv(4096) == b"WATCHDOG=1"
    finally:
        sock.close()


def test_a_child_process_can_notify(systemd_socket):
    """Under cage the app is a child of the unit's main process (NotifyAccess=all)."""
    env = dict(os.environ, WATCHDOG_USEC="30000000", WATCHDOG_PID="1")
    code = "from kiosk import watchdog; print(watchdog.watchdog_interval_s()); watchdog.ping()"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip() == "15.0"  # WATCHDOG_PID of another process does not switch it off
    assert systemd_socket.recv(4096) == b"WATCHDOG=1"


def test_without_systemd_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert watchdog.ready() is False and watchdog.ping() is False


@pytest.mark.parametrize("value", ["", "relative/path"])
def test_unusable_socket_setting(monkeypatch, value):
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert watchdog.ping() is False


def test_nobody_listening_is_not_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert watchdog.ping() is False


@pytest.mark.parametrize("usec, interval", [
    ("30000000", 15.0), ("1000000", 0.5), ("0", None), ("", None), ("abc", None), ("-5", None),
])
def test_watchdog_interval_is_half_the_timeout(monkeypatch, usec, interval):
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    assert watchdog.watchdog_interval_s() == interval


def test_no_watchdog_configured(monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert watchdog.watchdog_interval_s() is None
