"""Terminal sync: outbox batches applied exactly once, and what terminals pull.

- ``POST /api/v1/sync/batch``: a terminal's outbox events (offline tickets,
  voids of tickets whose answer it never got), each applied at most once by its
  idempotency key. Offline tickets keep their numbers and join the queue by
  their issue time, so they sit where they would have sat had the server
  issued them. They go in through the queue store (``insert_offline``), only in
  the sending terminal's own series letter; each event's result is
  ``applied``, ``duplicate`` (its key was applied before) or ``rejected``.
- ``GET /api/v1/sync/terminal``: the terminal's id, offline series letter and
  setting overrides. ``GET /api/v1/sync/hall``: the hall in the hall file's
  shape. ``GET /api/v1/sync/guides``: the guide content. Each carries an ETag
  and answers ``304`` to a matching ``If-None-Match``.
- Supervisors: ``PUT /api/v1/sync/guides`` (validated like ``kiosk guides
  check``) and ``PUT /api/v1/sync/terminals/{id}/settings``.
"""

from __future__ import annotations

import logging
import time
from datetime import date as Date
from datetime import timedelta
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from kiosk import paths
from kiosk.appointments.checkin import offline_ticket_refusal
from kiosk.appointments.checkin import reserved as reserved_key
from kiosk.domain import Ticket, TicketStatus
from kiosk.storage.db import reader
from kiosk.wire.guidefiles import folder_to_files, validate_files
from kiosk.wire.hallcodec import hall_to_dict
from kiosk.wire.overrides import ALLOWED, check_overrides

from . import daily_reports, sync_store
from .accounts import Principal
from .audit import Act, audited
from .auth import SUPERVISORS, TERMINAL, requires
from .errors import ApiError
from .halls import hall_runtime

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/sync", tags=["sync"])

MAX_BATCH = 1000
Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # as server.models.Strict: no coercion


class SyncEvent(_Strict):
    key: Key = Field(description="idempotency key: an event with a key already applied changes nothing")
    kind: Literal["ticket", "void"]
    payload: dict


class BatchIn(_Strict):
    events: Annotated[list[SyncEvent], Field(max_length=MAX_BATCH)]


class EventResult(BaseModel):
    key: str
    status: Literal["applied", "duplicate", "rejected"]
    field: str | None = None
    error: str | None = None
    number: str | None = None


class BatchOut(BaseModel):
    results: list[EventResult]
    server_time: float


class OfflineTicket(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    number: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,3}[0-9]{1,5}$")]
    service: Code
    day: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    seq: Annotated[int, Field(ge=0, le=99999)]
    series: Annotated[str, StringConstraints(pattern=r"^[A-Z]$")]
    issued_at: Annotated[float, Field(gt=0, lt=1e11)]
    priority: Code | None = None
    terminal: Annotated[str, StringConstraints(max_length=64)] | None = None
    clock_offset: Annotated[float, Field(ge=-86400, le=86400)] = 0.0
    token: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{24}$")] | None = Field(
        None, description="public token the terminal printed (kiosk.public_link); kept so the QR works once synced")


class VoidIn(_Strict):
    key: Key


class TerminalSyncOut(BaseModel):
    terminal_id: str
    name: str
    series: str = Field(description="offline series letter ('' for terminals that do not dispense)")
    settings: dict
    settings_version: int
    hall_version: int
    link_key: str = Field("", description="hex key for offline tickets' public tokens (kiosk.public_link)")


class SettingsIn(_Strict):
    settings: dict = Field(description='e.g. {"timeouts.idle_s": 60}; allowed: ' + ", ".join(ALLOWED))


class GuidesIn(_Strict):
    files: dict[str, str] = Field(description="relative path -> TOML text, as in config/guides")


def _runtime(request: Request):
    rt = hall_runtime(request)
    sync_store.prepare(rt.db)
    return rt


def _etag_response(request: Request, etag: str, body: dict) -> Response:
    tag = f'"{etag}"'
    sent = request.headers.get("if-none-match", "")
    if tag in [t.strip() for t in sent.split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return JSONResponse(body, headers={"ETag": tag, "Cache-Control": "no-cache"})


# ------------------------------------------------------------------ pulls

@router.get("/terminal", response_model=TerminalSyncOut,
            summary="The calling terminal: offline series letter and setting overrides (ETag)")
def terminal_info(request: Request, principal: Principal = Depends(requires(*TERMINAL)),
                  mode: Annotated[Literal["dispenser", "evaluator", "inquiry", "combined"] | None,
                                  Query(description="a dispensing mode gets a series letter")] = None) -> Response:
    rt = _runtime(request)
    queue = rt.queue()
    if mode in ("dispenser", "combined"):
        try:
            series = sync_store.assign_series(rt.db, rt.code, principal.name, queue.today())
        except sync_store.SeriesExhausted as exc:
            raise ApiError(409, "mode", str(exc), "series_exhausted") from None
    else:
        with rt.db.connect() as conn:
            series = sync_store.series_of(conn, principal.name)
    settings, version = sync_store.terminal_overrides(rt.db, principal.name)
    body = TerminalSyncOut(terminal_id=principal.name, name=principal.display_name, series=series,
                           settings=settings, settings_version=version, hall_version=rt.version,
                           link_key=rt.link_key)
    return _etag_response(request, f"t{series}-{version}-k{rt.link_key[:6]}", body.model_dump())


@router.get("/hall", summary="The hall (services, windows, calendar) in the hall file's shape (ETag)")
def hall(request: Request, principal=Depends(requires(*TERMINAL, *SUPERVISORS))) -> Response:
    rt = _runtime(request)
    queue = rt.queue()
    return _etag_response(request, f"h{rt.version}", {"version": rt.version, "hall": hall_to_dict(queue.hall)})


def _guides(rt) -> tuple[str, dict]:
    found = sync_store.guide_files(rt.db, rt.code)
    if found:
        return found
    # first use: the shipped sample content, as `kiosk guides check` would accept it
    files = folder_to_files(paths.SAMPLE_GUIDES)
    content, errors = validate_files(files, None)
    if content is None:
        raise ApiError(503, "guides", f"the shipped guide content is invalid: {errors[0]}", "guides_invalid")
    try:
        sync_store.save_guide_files(rt.db, rt.code, content.digest, files, "shipped")
    except sa.exc.IntegrityError:  # another server process saved it first (processes starting together)
        return sync_store.guide_files(rt.db, rt.code) or (content.digest, files)
    return content.digest, files


@router.get("/guides", summary="The guide content: {digest, files: {path: TOML text}} (ETag = digest)")
def guides(request: Request, principal=Depends(requires(*TERMINAL, *SUPERVISORS))) -> Response:
    rt = _runtime(request)
    digest, files = _guides(rt)
    tag = f'"{digest}"'
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return JSONResponse({"digest": digest, "files": files}, headers={"ETag": tag, "Cache-Control": "no-cache"})


@router.put("/guides", summary="Replace the guide content (validated as a whole, against the hall)",
            responses={422: {"description": "errors, each naming file, line and field"}})
def put_guides(body: GuidesIn, request: Request, act: Act = audited("guides.replace", *SUPERVISORS)) -> dict:
    act.note("guides", files=len(body.files))
    rt = _runtime(request)
    content, errors = validate_files(body.files, rt.queue().hall)
    if content is None:
        first = errors[0]
        return JSONResponse({"error": "invalid_content", "message": str(first), "field": first.field,
                             "errors": [{"file": e.file, "line": e.line, "field": e.field, "message": e.message}
                                        for e in errors[:200]]}, status_code=422)
    sync_store.save_guide_files(rt.db, rt.code, content.digest, body.files, act.principal.name)
    rt.hub.publish("config_changed", {"version": rt.version, "guides": content.digest})
    log.info("guide content %s uploaded by %s (%d guides)", content.digest[:12], act.principal.name,
             len(content.guides))
    return {"digest": content.digest, "guides": len(content.guides), "policies": len(content.policies)}


@router.put("/terminals/{terminal_id}/settings", summary="Setting overrides for one terminal")
def put_settings(body: SettingsIn, request: Request, terminal_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
                 act: Act = audited("terminal.settings", *SUPERVISORS)) -> dict:
    act.note(f"terminal {terminal_id}", settings=body.settings)
    rt = _runtime(request)
    clean, problems = check_overrides(body.settings)
    if problems:
        raise ApiError(422, problems[0][0], problems[0][1], "invalid_input")
    from .schema import terminals

    with rt.db.connect() as conn:
        if conn.execute(sa.select(terminals.c.id).where(terminals.c.id == terminal_id,
                                                       terminals.c.hall == rt.code)).first() is None:
            raise ApiError(404, "terminal_id", f"unknown terminal '{terminal_id}'", "not_found")
    version = sync_store.save_overrides(rt.db, terminal_id, clean)
    rt.hub.publish("config_changed", {"version": rt.version, "terminal": terminal_id})
    return {"settings": clean, "version": version}


# ------------------------------------------------------------------ batch

def _reject(key: str, field: str | None, error: str) -> EventResult:
    return EventResult(key=key, status="rejected", field=field, error=error)


def _check_ticket(ev: SyncEvent, queue, today: str, mine: str, terminal: str, claimed: set):
    """((ticket, series), None) or (None, rejection); ``claimed``: the appointments this batch's tickets hold."""
    try:
        t = OfflineTicket.model_validate(ev.payload)
    except ValidationError as exc:
        e = exc.errors()[0]
        return None, _reject(ev.key, ".".join(str(p) for p in e.get("loc", ())) or "payload", e.get("msg", "invalid"))
    svc = queue.hall.service(t.service)
    if svc is None:
        return None, _reject(ev.key, "service", f"unknown service '{t.service}'")
    if not mine:
        return None, _reject(ev.key, "series", "this terminal has no offline series letter; it cannot number "
                                               "tickets offline")
    if t.series != mine:
        # only the terminal's own letter: any other could be a prefix's letter ("AQ001" of a service "AQ")
        return None, _reject(ev.key, "series", f"series '{t.series}' is not this terminal's offline series "
                                               f"'{mine}'")
    digits = t.number[len(svc.prefix) + 1:]
    if not t.number.startswith(svc.prefix + t.series) or not digits.isdigit() or int(digits) != t.seq:
        return None, _reject(ev.key, "number", f"'{t.number}' is not {svc.prefix}{t.series} + seq {t.seq}")
    try:
        day = Date.fromisoformat(t.day)
    except ValueError:
        return None, _reject(ev.key, "day", f"'{t.day}' is not a calendar date")
    now_day = Date.fromisoformat(today)
    if not now_day - timedelta(days=30) <= day <= now_day + timedelta(days=1):
        return None, _reject(ev.key, "day", f"{t.day} is too far from today ({today})")
    if reserved_key(ev.key):  # the appointment lane admits by key: only a real offline check-in's ticket
        with reader(queue.store.engine) as conn:
            problem = offline_ticket_refusal(conn, queue.store.hall, ev.key, t.service, t.day)
        if problem is None and ev.key.split(":", 2)[1] in claimed:
            problem = "another ticket of this batch has this appointment's key"
        if problem is not None:
            return None, _reject(ev.key, "key", problem)
        claimed.add(ev.key.split(":", 2)[1])
    if t.priority is not None and t.priority not in {g.code for g in queue.hall.priority_groups}:
        t.priority = None  # the group was removed meanwhile: the ticket still counts, as a normal one
    ticket = Ticket(id=t.id, number=t.number, service=t.service, day=t.day, seq=t.seq,
                    issued_at=t.issued_at + t.clock_offset, priority=t.priority, terminal=terminal, key=ev.key,
                    token=t.token)
    return (ticket, t.series), None


def _apply_tickets(queue, principal: Principal, items: list) -> dict[str, EventResult]:
    """Through the queue store, in one transaction: applied, duplicate (key seen) or rejected (number taken)."""
    out = {}
    numbers = {}
    for t, _ in items:
        numbers.setdefault(t.key, t.number)  # the same key twice: the first one counts
    for key, (status, field, error) in queue.store.insert_offline(items).items():
        number = numbers[key]
        if status == "rejected":
            log.error("offline ticket %s from terminal %s: %s", number, principal.name, error)
            out[key] = EventResult(key=key, status="rejected", field=field, error=error, number=number)
        else:
            out[key] = EventResult(key=key, status=status, number=number)
    return out


def _apply_void(rt, principal: Principal, ev: SyncEvent) -> EventResult:
    try:
        body = VoidIn.model_validate(ev.payload)
    except ValidationError:
        return _reject(ev.key, "payload.key", "a void needs the key of the ticket request")
    with rt.db.begin() as conn:
        done = conn.execute(sa.select(sync_store.applied.c.key).where(sync_store.applied.c.key == ev.key)).first()
        if done:
            return EventResult(key=ev.key, status="duplicate")
        conn.execute(sync_store.applied.insert().values(key=ev.key, terminal=principal.name, kind="void",
                                                        applied_at=time.time()))
    queue = rt.queue()
    ticket = queue.store.by_key(body.key)
    if ticket is not None and ticket.terminal != principal.name:  # only the issuing terminal voids its ticket
        return _reject(ev.key, "payload.key", "that ticket was issued by another terminal")
    if ticket is not None and ticket.status is TicketStatus.WAITING:
        queue.cancel(ticket.id)
        log.info("voided %s: terminal %s never got the answer for it", ticket.number, principal.name)
        return EventResult(key=ev.key, status="applied", number=ticket.number)
    return EventResult(key=ev.key, status="applied")


@router.post("/batch", response_model=BatchOut,
             summary="Apply a terminal's outbox events, each exactly once by key (at most 1000)")
def batch(body: BatchIn, request: Request, principal: Principal = Depends(requires(*TERMINAL))) -> BatchOut:
    rt = _runtime(request)
    queue = rt.queue()
    today = queue.today()
    with rt.db.connect() as conn:
        mine = sync_store.series_of(conn, principal.name)
    results: dict[str, EventResult] = {}
    items, claimed = [], set()
    for ev in body.events:
        if ev.kind == "ticket":
            item, rejected = _check_ticket(ev, queue, today, mine, principal.name, claimed)
            if rejected:
                log.warning("offline ticket from %s rejected: %s: %s", principal.name, rejected.field, rejected.error)
                results[ev.key] = rejected
            else:
                items.append(item)
    if items:
        results.update(_apply_tickets(queue, principal, items))
        applied = [t for t, _ in items if results[t.key].status == "applied"]
        if applied:
            late: dict[str, int] = {}
            for t in applied:
                late[t.day] = late.get(t.day, 0) + 1
            # offline tickets of a day whose 日报 is already frozen make a numbered correction
            daily_reports.note_late(rt.db, queue.hall, late, "offline ticket(s)")
            last = max(applied, key=lambda t: t.issued_at)
            ticket = {k: getattr(last, k) for k in ("id", "number", "service", "day", "seq", "issued_at", "priority")}
            ticket.update(status="waiting", terminal=principal.name)
            # one event per batch: screens refresh their counts; a flood of 1000 would stall slow clients
            rt.hub.publish("ticket_issued", {"ticket": ticket, "synced": len(applied)})
    for ev in body.events:
        if ev.kind == "void" and ev.key not in results:
            results[ev.key] = _apply_void(rt, principal, ev)
    return BatchOut(results=[results[ev.key] for ev in body.events if ev.key in results], server_time=time.time())
