"""The hall server's FastAPI application."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from kiosk import __version__
from kiosk.appointments.checkin import lane as appointment_lane

from . import (api_admin, api_appointments, api_audit, api_auth, api_checkin, api_events, api_queue,
               api_rating_export, api_ratings, api_reports, api_staff, api_sync, api_terminals, api_windows, errors,
               pages, public)
from .auth import TokenCache
from .daily_reports import DailyFreezer
from .event_relay import EventRelay, is_postgres
from .help_requests import HelpDesk
from .limits import BodyLimit, StreamSlots
from .runtime import HallRuntime

DESCRIPTION = """Hall server of a citizen service hall (便民服务中心): the single source of
ticket numbers for its terminals, the window staff's call console, the hall display and
the supervisors' pages.

Authentication: `Authorization: Bearer TOKEN` with a staff token (`POST /api/v1/auth/login`)
or a terminal token (`POST /api/v1/terminals/enroll`). Browser pages use a session cookie
and must send `X-CSRF-Token` on writes. Errors have one shape:
`{"error": code, "message": text, "field": the input at fault}`."""


def create_app(db_url: str, hall_file: Path | str | None = None) -> FastAPI:
    runtime = HallRuntime(db_url, hall_file)
    tokens = TokenCache()
    relay = None
    if is_postgres(runtime.db):  # several server processes may share it: events and caches go through it
        relay = EventRelay(runtime.db)
        relay.attach(runtime.code, runtime.hub)
        relay.on_event(runtime.on_relayed)
        relay.on_control("tokens", tokens.forget_here)
        tokens.announce = lambda: relay.control("tokens")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if relay is not None:
            relay.start()
        try:
            runtime.refresh_webfont()  # cut the pages' font now (background), not on the first page load
        except Exception:
            logging.getLogger(__name__).exception("web font not prepared")
        freezer = DailyFreezer(runtime.db, lambda: [runtime.queue().hall])  # 日报 at closing time
        freezer.start()
        yield
        freezer.stop()
        runtime.close()
        if relay is not None:
            relay.stop()

    app = FastAPI(title="Hall kiosk server / 便民服务中心大厅服务器", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)  # the docs UIs load from a CDN
    app.state.runtime = runtime
    # on-time appointments are called before walk-ins, or interleaved with them (the hall's setting)
    apt_lane, app.state.forget_appointment_rule = appointment_lane(
        lambda: api_appointments.store_for(app.state).settings())
    runtime.engine.add_lane(apt_lane)
    app.state.relay = relay
    app.state.tokens = tokens
    app.state.help = HelpDesk(runtime.db, runtime.code)
    app.state.streams = StreamSlots()
    errors.install(app)

    @app.get("/healthz", tags=["health"], summary="Liveness and database check")
    def healthz(request: Request) -> dict:
        rt = request.app.state.runtime
        queue = rt.queue()  # reads the database
        return {"ok": True, "hall": rt.code, "hall_version": rt.version, "time": time.time(), "version": __version__,
                "timezone": queue.hall.timezone}  # the pages show every clock in the hall's zone

    @app.get("/livez", tags=["health"], summary="Liveness only: touches no database (the benchmarks' floor)")
    def livez() -> dict:
        return {"ok": True}

    for module in (api_auth, api_audit, api_terminals, api_queue, api_windows, api_admin, api_events,
                   api_rating_export, api_ratings, api_staff, api_sync, api_checkin, api_appointments, api_reports,
                   pages, public):
        app.include_router(module.router)
    app.include_router(public.api)
    app.add_middleware(BodyLimit)  # 413 before reading a body over the route's limit (server/limits.py)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
