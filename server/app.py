"""The hall server's FastAPI application."""

from __future__ import annotations

import logging
import os
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Mapping

from fastapi import FastAPI, Query, Request
from fastapi.staticfiles import StaticFiles

from kiosk import __version__
from kiosk.appointments.rule import AppointmentRule

from . import (api_admin, api_appointments, api_audit, api_auth, api_checkin, api_county, api_events,
               api_linked_halls, api_queue, api_rating_export, api_ratings, api_reports, api_staff, api_sync,
               api_terminals, api_windows, county_inbox, county_link, errors, hall_rules, pages, public)
from .audit import AuditTrail
from .auth import TokenCache
from .daily_reports import DailyFreezer
from .event_relay import EventRelay, is_postgres
from .halls import HallPrefix
from .limits import BodyLimit, StreamSlots
from .models import HALL_CODE_PATTERN
from .rating_export import names_for
from .process_lock import exclusive
from .runtime import County

DESCRIPTION = """Hall server of a citizen service hall (便民服务中心): the single source of
ticket numbers for its terminals, the window staff's call console, the hall display and
the supervisors' pages.

Authentication: `Authorization: Bearer TOKEN` with a staff token (`POST /api/v1/auth/login`)
or a terminal token (`POST /api/v1/terminals/enroll`). Browser pages use a session cookie
and must send `X-CSRF-Token` on writes. Errors have one shape:
`{"error": code, "message": text, "field": the input at fault}`.

Halls: one server may hold a county's halls. `/api/v1/...` works on the hall of the
credential (a terminal, or staff of a hall); `/api/v1/halls/{hall}/...` is the same route
for a named hall: county users (`county-admin`, `county-viewer`) name the hall there, anyone
else may name only their own (403 otherwise). `GET /api/v1/halls` lists the halls a
credential may see. Each operation's `x-hall-rule` says who may call it for which hall:
`none` (not about a hall), `public` (no sign-in; the named or only hall), `terminal`,
`staff`, `hall` (terminal or staff of that hall)."""


# FastAPI's native OpenTelemetry asks, on every request, whether a tracer, meter or logger provider is set: each
# question reads the environment (``OTEL_PYTHON_*_PROVIDER``). Decided once when the app is built instead.
_OTEL_PROVIDER_VARS = ("OTEL_PYTHON_TRACER_PROVIDER", "OTEL_PYTHON_METER_PROVIDER", "OTEL_PYTHON_LOGGER_PROVIDER")


def telemetry_config(environ: Mapping[str, str] | None = None) -> dict | None:
    """FastAPI's ``telemetry`` option: None (its defaults, checked per request) when OpenTelemetry is in use,
    i.e. a provider is named in the environment or already set in this process, or FastAPI is asked to
    configure exporters (``FASTAPI_OTEL_AUTO_CONFIGURE=true``); otherwise every signal off, so a request
    reads no environment variable. None too for a FastAPI without native telemetry (nothing to turn off)."""
    try:
        from fastapi.telemetry._api import _unconfigured
        from opentelemetry import _logs, metrics, trace
    except ImportError:
        return None
    env = os.environ if environ is None else environ
    if env.get("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true" or any(v in env for v in _OTEL_PROVIDER_VARS):
        return None
    if not all(_unconfigured(p) for p in (trace.get_tracer_provider(), metrics.get_meter_provider(),
                                          _logs.get_logger_provider())):
        return None
    return {"tracing": False, "metrics": False, "logs": False}


RULE_CONTROL = "appointment_rule"  # the relay's control message: another process saved appointment settings


def create_app(db_url: str, hall_file: Path | str | None = None) -> FastAPI:
    county = County(db_url, hall_file)
    tokens = TokenCache()
    relay = None
    if is_postgres(county.db):  # several server processes may share it: events and caches go through it
        relay = EventRelay(county.db)
        relay.on_control("tokens", tokens.forget_here)
        tokens.announce = lambda: relay.control("tokens")

    def lane(rt) -> None:
        # on-time appointments are called before walk-ins, or interleaved with them (the hall's setting, held in
        # memory: kiosk/appointments/rule.py)
        rule = rt.appointment_rule = AppointmentRule(lambda: api_appointments.store_for(rt).settings())

        def forget() -> None:  # after a save through this process: here at once, and in every other process
            rule.refresh()
            if relay is not None:
                relay.control(RULE_CONTROL)

        rt.forget_appointment_rule = forget
        rt.engine.add_lane(rule.lane)

    if relay is not None:
        relay.on_control(RULE_CONTROL, lambda: [rt.appointment_rule.refresh() for rt in county.running()
                                                if hasattr(rt, "appointment_rule")])

    def relayed(rt) -> None:
        if relay is not None:
            relay.attach(rt.code, rt.hub)
            relay.on_event(rt.on_relayed)

    county.on_new_hall += [lane, relayed]  # every hall's runtime, as it is built
    with exclusive(county.db, "kiosk-serve-start"):  # workers starting at once: one makes the appointments' tables
        for rt in county.running():
            lane(rt)
            relayed(rt)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if relay is not None:
            relay.start()
        try:
            county.first.refresh_webfont()  # cut the pages' font now (background), not on the first page load
        except Exception:
            logging.getLogger(__name__).exception("web font not prepared")
        # 日报 at closing time, for every hall
        freezer = DailyFreezer(county.db, lambda: [county.hall(c).queue().hall for c in county.codes()])
        freezer.start()
        with exclusive(county.db, "kiosk-serve-start"):  # workers starting at once: one migrates (runtime.County)
            county_link.prepare(county.db)
            county_inbox.prepare(county.db)
        pusher = county_link.CountyPusher(  # reports upward, once this (township) hall server is linked to a county
            county.db, lambda: names_for(county.db, county.first.queue().hall, county.first.guide_files()[1]))
        pusher.start()
        app.state.county_pusher = pusher
        yield
        pusher.stop()
        freezer.stop()
        county.close()
        if relay is not None:
            relay.stop()

    telemetry = telemetry_config()
    app = FastAPI(title="Hall kiosk server / 便民服务中心大厅服务器", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,  # the docs UIs load from a CDN
                  **({"telemetry": telemetry} if telemetry is not None else {}))
    app.state.county = county
    app.state.relay = relay
    app.state.tokens = tokens
    app.state.streams = StreamSlots()
    errors.install(app)

    @app.get("/healthz", tags=["health"], summary="Liveness and database check (?hall=CODE: that hall's)")
    def healthz(request: Request, hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN,
                                                                   description="a hall's code")] = None) -> dict:
        rt = (county.hall(hall) if hall else county.only()) or county.first
        queue = rt.queue()  # reads the database
        return {"ok": True, "hall": rt.code, "hall_version": rt.version, "time": time.time(), "version": __version__,
                "timezone": queue.hall.timezone}  # the pages show every clock in the hall's zone

    @app.get("/livez", tags=["health"], summary="Liveness only: touches no database (the benchmarks' floor)")
    def livez() -> dict:
        return {"ok": True}

    for module in (api_queue, api_auth, api_county, api_audit, api_terminals, api_windows, api_admin, api_events,
                   api_rating_export, api_ratings, api_staff, api_sync, api_checkin, api_appointments, api_reports,
                   api_linked_halls, pages, public):
        app.include_router(module.router)
    app.include_router(public.api)
    app.add_middleware(BodyLimit)  # 413 before reading a body over the route's limit (server/limits.py)
    app.add_middleware(HallPrefix)  # /api/v1/halls/{hall}/... -> the same route for that hall (server/halls.py)
    app.add_middleware(AuditTrail)  # staff calls' audit lines, written as their responses start (server/audit.py)

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = hall_rules.document(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
