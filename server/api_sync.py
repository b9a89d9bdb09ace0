"""Terminal sync: outbox batches applied exactly once, and what terminals pull.

- ``POST /api/v1/sync/batch``: a terminal's outbox events (offline tickets,
  voids of tickets whose answer it never got), each applied at most once by its
  idempotency key. Offline tickets keep their numbers and join the queue by
  their issue time, so they sit where they would have sat had the server
  issued them.
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
from kiosk.domain import TicketStatus
from kiosk.storage.schema import tickets
from kiosk.sync.guidefiles import folder_to_files, validate_files
from kiosk.sync.hallcodec import hall_to_dict
from kiosk.sync.overrides import ALLOWED, check_overrides

from . import sync_store
from .accounts import Principal
from .auth import SUPERVISORS, TERMINAL, requires
from .errors import ApiError

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
    rt = request.app.state.runtime
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
    sync_store.save_guide_files(rt.db, rt.code, content.digest, files, "shipped")
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
def put_guides(body: GuidesIn, request: Request, principal: Principal = Depends(requires(*SUPERVISORS))) -> dict:
    rt = _runtime(request)
    content, errors = validate_files(body.files, rt.queue().hall)
    if content is None:
        first = errors[0]
        return JSONResponse({"error": "invalid_content", "message": str(first), "field": first.field,
                             "errors": [{"file": e.file, "line": e.line, "field": e.field, "message": e.message}
                                        for e in errors[:200]]}, status_code=422)
    sync_store.save_guide_files(rt.db, rt.code, content.digest, body.files, principal.name)
    rt.hub.publish("config_changed", {"version": rt.version, "guides": content.digest})
    log.info("guide content %s uploaded by %s (%d guides)", content.digest[:12], principal.name,
             len(content.guides))
    return {"digest": content.digest, "guides": len(content.guides), "policies": len(content.policies)}


@router.put("/terminals/{terminal_id}/settings", summary="Setting overrides for one terminal")
def put_settings(body: SettingsIn, request: Request, terminal_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
                 principal=Depends(requires(*SUPERVISORS))) -> dict:
    rt = _runtime(request)
    clean, problems = check_overrides(body.settings)
    if problems:
        raise ApiError(422, problems[0][0], problems[0][1], "invalid_input")
    from .schema import terminals

    with rt.db.connect() as conn:
        if conn.execute(sa.select(terminals.c.id).where(terminals.c.id == terminal_id)).first() is None:
            raise ApiError(404, "terminal_id", f"unknown terminal '{terminal_id}'", "not_found")
    version = sync_store.save_overrides(rt.db, terminal_id, clean)
    rt.hub.publish("config_changed", {"version": rt.version, "terminal": terminal_id})
    return {"settings": clean, "version": version}


# ------------------------------------------------------------------ batch

def _reject(key: str, field: str | None, error: str) -> EventResult:
    return EventResult(key=key, status="rejected", field=field, error=error)


def _check_ticket(ev: SyncEvent, queue, today: str, allowed_series: set[str] | None, mine: str):
    """(row values, None) or (None, rejection)."""
    try:
        t = OfflineTicket.model_validate(ev.payload)
    except ValidationError as exc:
        e = exc.errors()[0]
        return None, _reject(ev.key, ".".join(str(p) for p in e.get("loc", ())) or "payload", e.get("msg", "invalid"))
    svc = queue.hall.service(t.service)
    if svc is None:
        return None, _reject(ev.key, "service", f"unknown service '{t.service}'")
    if t.series != mine and (allowed_series is None or t.series not in allowed_series):
        return None, _reject(ev.key, "series", f"series '{t.series}' belongs to another terminal")
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
    if t.priority is not None and t.priority not in {g.code for g in queue.hall.priority_groups}:
        t.priority = None  # the group was removed meanwhile: the ticket still counts, as a normal one
    return dict(id=t.id, hall=queue.hall.code, day=t.day, service=t.service, number=t.number, seq=t.seq,
                series=t.series, generation=0, status=TicketStatus.WAITING.value, priority=t.priority,
                issued_at=t.issued_at + t.clock_offset, call_count=0, key=ev.key, token=t.token), None


def _apply_tickets(rt, principal: Principal, rows: list[dict]) -> dict[str, EventResult]:
    """Insert the new ones in one transaction; duplicates and number clashes are reported."""
    out: dict[str, EventResult] = {}
    for attempt in range(3):
        out.clear()
        try:
            with rt.db.begin() as conn:
                keys = [r["key"] for r in rows]
                seen = set()
                for chunk in range(0, len(keys), 500):
                    seen |= set(conn.execute(sa.select(tickets.c.key)
                                             .where(tickets.c.key.in_(keys[chunk:chunk + 500]))).scalars())
                fresh = []
                for r in rows:
                    if r["key"] in seen:
                        out.setdefault(r["key"], EventResult(key=r["key"], status="duplicate", number=r["number"]))
                    else:
                        seen.add(r["key"])  # the same key twice in one batch: the first one counts
                        fresh.append(r)
                taken = set()
                numbers = sorted({r["number"] for r in fresh})
                days = sorted({r["day"] for r in fresh})
                ids = [r["id"] for r in fresh]
                for chunk in range(0, len(numbers), 500):
                    taken |= {(d, n) for d, n in conn.execute(
                        sa.select(tickets.c.day, tickets.c.number)
                        .where(tickets.c.hall == rt.code, tickets.c.day.in_(days),
                               tickets.c.number.in_(numbers[chunk:chunk + 500]), tickets.c.generation == 0))}
                used_ids = set()
                for chunk in range(0, len(ids), 500):
                    used_ids |= set(conn.execute(sa.select(tickets.c.id)
                                                 .where(tickets.c.id.in_(ids[chunk:chunk + 500]))).scalars())
                insert = []
                for r in fresh:
                    if (r["day"], r["number"]) in taken:
                        log.error("offline ticket %s %s from terminal %s clashes with a ticket already there",
                                  r["day"], r["number"], principal.name)
                        out[r["key"]] = _reject(r["key"], "number", f"{r['number']} is already taken on {r['day']}")
                        continue
                    if r["id"] in used_ids:
                        out[r["key"]] = _reject(r["key"], "id", "ticket id already used by another ticket")
                        continue
                    taken.add((r["day"], r["number"]))
                    insert.append(dict(r, terminal=principal.name))
                    out[r["key"]] = EventResult(key=r["key"], status="applied", number=r["number"])
                if insert:
                    conn.execute(tickets.insert(), insert)
            return out
        except sa.exc.IntegrityError:
            if attempt == 2:
                raise
            log.info("sync batch raced another writer; applying again")
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
        held = sync_store.series_in_use(conn, rt.code)
    # a letter held by no other live terminal is accepted (e.g. this terminal's letter before re-enrollment)
    allowed = {c for c in sync_store.SERIES_LETTERS if held.get(c) in (None, principal.name)}
    results: dict[str, EventResult] = {}
    rows = []
    for ev in body.events:
        if ev.kind == "ticket":
            row, rejected = _check_ticket(ev, queue, today, allowed, mine)
            if rejected:
                log.warning("offline ticket from %s rejected: %s: %s", principal.name, rejected.field, rejected.error)
                results[ev.key] = rejected
            else:
                rows.append(row)
    if rows:
        results.update(_apply_tickets(rt, principal, rows))
        applied = [r for r in rows if results[r["key"]].status == "applied"]
        if applied:
            last = max(applied, key=lambda r: r["issued_at"])
            ticket = {k: last.get(k) for k in ("id", "number", "service", "day", "seq", "issued_at", "priority")}
            ticket.update(status="waiting", terminal=principal.name)
            # one event per batch: screens refresh their counts; a flood of 1000 would stall slow clients
            rt.hub.publish("ticket_issued", {"ticket": ticket, "synced": len(applied)})
    for ev in body.events:
        if ev.kind == "void" and ev.key not in results:
            results[ev.key] = _apply_void(rt, principal, ev)
    return BatchOut(results=[results[ev.key] for ev in body.events if ev.key in results], server_time=time.time())
