"""What a request on the server's busy path must not do (issue 17): read the environment (FastAPI's native
telemetry asked for OpenTelemetry providers on every request), or wait on a database read for the appointments'
call-ahead rule (``kiosk/appointments/rule.py``: read in the caller's thread only when built or changed)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import TEST_HALL


@pytest.fixture()
def env_reads(monkeypatch):
    """(thread, key) of every read from ``os.environ`` (``in``, ``get``, ``[]`` all reach ``__getitem__``)."""
    seen: list[str] = []
    environ_type = type(os.environ)
    original = environ_type.__getitem__

    def counted(self, key):
        seen.append((threading.get_ident(), key))
        return original(self, key)

    monkeypatch.setattr(environ_type, "__getitem__", counted)
    return seen


async def _get(app, path: str) -> int:
    """One HTTP request through the ASGI app; its status."""
    sent: list[dict] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": [],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_a_request_reads_no_environment_variable(tmp_path, env_reads, monkeypatch):
    for name in ("OTEL_PYTHON_TRACER_PROVIDER", "OTEL_PYTHON_METER_PROVIDER", "OTEL_PYTHON_LOGGER_PROVIDER",
                 "FASTAPI_OTEL_AUTO_CONFIGURE"):
        monkeypatch.delenv(name, raising=False)
    from server.app import create_app

    hall = tmp_path / "hall.toml"
    hall.write_text(TEST_HALL, encoding="utf-8")
    app = create_app(f"sqlite:///{tmp_path / 'server.db'}", hall)
    try:
        async def requests() -> list[str]:
            assert await _get(app, "/livez") == 200  # the first request builds the middleware stack
            env_reads.clear()
            for _ in range(3):
                assert await _get(app, "/livez") == 200
            me = threading.get_ident()
            return [key for thread, key in env_reads if thread == me]

        with ThreadPoolExecutor(1) as pool:  # its own thread and loop (another test may leave one running here)
            assert pool.submit(asyncio.run, requests()).result() == []
    finally:
        app.state.county.close()


def test_telemetry_stays_on_where_opentelemetry_is_set_up():
    from server.app import telemetry_config

    off = {"tracing": False, "metrics": False, "logs": False}
    assert telemetry_config({}) == off
    assert telemetry_config({"OTEL_PYTHON_TRACER_PROVIDER": "sdk_tracer_provider"}) is None
    assert telemetry_config({"OTEL_PYTHON_METER_PROVIDER": "sdk_meter_provider"}) is None
    assert telemetry_config({"FASTAPI_OTEL_AUTO_CONFIGURE": "TRUE"}) is None
    assert telemetry_config({"FASTAPI_OTEL_AUTO_CONFIGURE": "false"}) == off


class Settings:
    """An ``AppointmentStore.settings`` stand-in: which threads read it; ``held``: an event the next read waits
    on (after taking its value) before it returns."""

    def __init__(self, in_a_row):
        from kiosk.appointments import AppointmentSettings

        self.make = lambda n: AppointmentSettings(mode="interleave", max_in_a_row=n) if n else AppointmentSettings()
        self.value = in_a_row
        self.threads: list[int] = []
        self.held: threading.Event | None = None
        self.entered = threading.Event()

    def __call__(self):
        self.threads.append(threading.get_ident())
        value, gate, self.held = self.value, self.held, None
        self.entered.set()
        if gate is not None:
            assert gate.wait(10)
        return self.make(value)


def _settled(rule) -> None:
    for _ in range(200):
        if not rule._checking:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the background read did not end")


def test_the_appointment_rule_is_never_read_in_the_askers_thread():
    from kiosk.appointments.rule import AppointmentRule

    now = [100.0]
    settings = Settings(None)
    rule = AppointmentRule(settings, clock=lambda: now[0])
    me = threading.get_ident()
    assert rule.in_a_row() is None and settings.threads == [me]  # read when built
    settings.value = 2  # saved by another process
    for _ in range(50):  # asked on every ticket: within RECHECK_S, from memory
        assert rule.in_a_row() is None
    assert len(settings.threads) == 1
    now[0] += AppointmentRule.RECHECK_S + 0.1
    gate = settings.held = threading.Event()
    assert rule.in_a_row() is None  # due: the held value now, the read in the background
    assert settings.entered.wait(10)
    assert rule.in_a_row() is None and len(settings.threads) == 2  # one background read at a time
    gate.set()
    _settled(rule)
    assert rule.in_a_row() == 2
    assert len(settings.threads) == 2 and settings.threads[1] != me


def test_a_change_saved_here_applies_at_once_and_an_older_background_read_does_not_undo_it():
    from kiosk.appointments.rule import AppointmentRule

    now = [100.0]
    settings = Settings(None)
    rule = AppointmentRule(settings, clock=lambda: now[0])
    now[0] += AppointmentRule.RECHECK_S + 0.1
    gate = settings.held = threading.Event()
    settings.entered.clear()
    rule.in_a_row()  # a background read takes the old rule (strict) and is held
    assert settings.entered.wait(10)
    settings.value = 3  # a supervisor saves interleave 3 through this process
    rule.refresh()
    assert rule.in_a_row() == 3 and settings.threads[-1] == threading.get_ident()
    gate.set()  # the older read now returns strict: it must not replace the newer 3
    _settled(rule)
    assert rule.in_a_row() == 3
