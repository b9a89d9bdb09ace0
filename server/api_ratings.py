"""Ratings (好差评), their statistics, the follow-up of bad ones (整改/回访).

The window's staff on duty and staff photos are in ``server/api_staff.py``.

Rules of ``POST /api/v1/ratings``:

- Who: a terminal enrolled as an evaluator, for the window it was enrolled
  for only (403 otherwise), or a supervisor/admin (e.g. typing in a paper
  card). Window staff may not: they would be rating themselves.
- With ``ticket``: the ticket must exist (404) and be finished (``done``;
  409 otherwise, e.g. still being served, a no-show or transferred on).
  Window, staff and service come from the ticket; a ``window`` in the body
  must match the ticket's (422).
- Without a ticket it is a walk-in rating at ``window``, accepted only when
  the hall allows walk-in ratings (422 on ``ticket`` otherwise); the staff is
  the one on duty at the window (see ``/windows/{number}/duty``).
- ``level`` null records an unrated visit (no answer before the timeout).
- ``created_at`` (optional): when the visitor answered, for ratings sent
  later from a terminal's outbox; more than 5 minutes in the future (a
  terminal clock running ahead) is replaced by the server's time, so a real
  rating is never refused over a clock.
- 201 with the new rating; the same ``key`` again -> 200 with the stored
  rating, nothing new stored (whatever the body says). A ticket that already
  has a rating -> 200 with that first rating, nothing new stored.
- A new bad rating (level 1-2) opens a follow-up case due
  ``followup_days`` working days (hall calendar; default 15, set with
  ``PUT /api/v1/rating-settings``) after the rating's local day.

Privacy: the event stream gets ``rating_recorded`` with the window only (no
level, ticket, key or phone): window staff and the hall TV read that stream.
Ratings, statistics and follow-ups are for supervisors and admins only.
"""

from __future__ import annotations

import logging
import time
from datetime import date as Date
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from kiosk.domain import Hall, TicketStatus
from kiosk.ratings.followup import record_rating
from kiosk.ratings.model import CLOSED_STATES, FOLLOWUP_STATE_NAMES, FollowUp, Rating, RatingError, make_rating
from kiosk.ratings.store import RatingStore
from kiosk.ratings.tables import followups as followup_table
from kiosk.ratings.verification import VERDICT_NAMES, Verdict, verdicts, verify
from kiosk.storage.db import reader
from kiosk.storage.schema import tickets

from . import daily_reports
from .halls import hall_runtime
from .accounts import Principal
from .audit import Act, audited
from .auth import STAFF, SUPERVISORS, TERMINAL, VIEWERS, requires
from .errors import ApiError
from .models import Day
from .rating_models import (CallbackIn, FollowUpOut, RatingIn, RatingOut, RatingSettingsIn, RatingSettingsOut,
                            RatingStatsOut, ReasonOut, RectifyIn, VerificationOut, VerifyIn)
from .rating_stats import rating_stats, stats_csv
from .api_staff import duty_staff
from .api_staff import staff_names as _names

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["ratings"])
supervisor = requires(*SUPERVISORS, *VIEWERS)  # reads: the county viewer too
RATERS = (*TERMINAL, *SUPERVISORS)
FUTURE_SLACK_S = 300  # a terminal clock a little ahead is fine; further ahead, the server's time is used
MAX_RANGE_DAYS = 3660


def store(request: Request) -> RatingStore:
    """The hall's rating store (made and migrated when the server starts: ``server/runtime.py``)."""
    rt = hall_runtime(request)
    rt.queue()  # a hall edited by another process: its timezone reaches the store
    return rt.ratings


def _refused(exc: RatingError) -> ApiError:
    status = {"not_found": 404, "wrong_state": 409}.get(exc.code, 422)
    return ApiError(status, exc.field, str(exc), "invalid_input" if exc.code == "invalid" else exc.code)


def rating_out(r: Rating, hall: Hall, names: dict, rs: RatingStore, followup_id: str | None = None) -> RatingOut:
    reasons = dict(hall.rating_reasons)
    w = hall.window(r.window)
    svc = hall.service(r.service) if r.service else None
    return RatingOut(id=r.id, key=r.key, level=r.level, level_name=r.level_name, reasons=list(r.reasons),
                     reason_names=[reasons.get(c, c) for c in r.reasons], phone=r.phone, ticket_id=r.ticket_id,
                     ticket_number=r.ticket_number, window=r.window, window_name=w.name if w else "",
                     staff=r.staff, staff_name=names[r.staff][0] if r.staff in names else r.staff,
                     service=r.service, service_name=svc.name if svc else r.service, walk_in=r.walk_in,
                     terminal=r.terminal, created_at=r.created_at, day=rs.local_day(r.created_at).isoformat(),
                     followup_id=followup_id)


# ------------------------------------------------------------------ ratings

def _own_window(principal: Principal, window: int, field: str) -> None:
    """An evaluator rates the window it was enrolled for, nothing else."""
    if principal.kind == "terminal" and principal.window != window:
        raise ApiError(403, field, f"this evaluator rates window {principal.window}, not window {window}",
                       "forbidden")


@router.get("/rating-reasons", response_model=list[ReasonOut],
            summary="The hall's reasons for a bad rating (不满意/非常不满意), in display order")
def rating_reasons(request: Request, principal=Depends(requires(*TERMINAL, *STAFF))) -> list[ReasonOut]:
    return [ReasonOut(code=c, name=n) for c, n in hall_runtime(request).queue().hall.rating_reasons]


@router.post("/ratings", response_model=RatingOut, status_code=201,
             summary="Record a rating (201; the same key again: 200 with the stored rating)",
             responses={200: {"description": "a repeated key, or the ticket already has a rating: the stored one"},
                        404: {"description": "unknown ticket"},
                        409: {"description": "the ticket is not finished"},
                        422: {"description": "invalid level, reasons, phone, window or walk-in not allowed"}})
def add_rating(body: RatingIn, request: Request, act: Act = audited("rating.add", *RATERS)) -> JSONResponse:
    principal = act.principal
    if principal.kind == "terminal" and principal.mode != "evaluator":
        raise ApiError(403, "Authorization", f"this terminal was enrolled as a {principal.mode}: only an evaluator "
                                             "rates", "forbidden")
    act.note(f"window {body.window}" if body.window else f"ticket {body.ticket}")
    rt = hall_runtime(request)
    queue = rt.queue()
    hall = queue.hall
    rs = store(request)
    names = _names(rt.db)
    repeated = rs.by_key(body.key)
    if repeated is not None:
        followup = rs.followup_for(repeated.id) if repeated.bad else None
        out = rating_out(repeated, hall, names, rs, followup.id if followup else None)
        return JSONResponse(out.model_dump(), status_code=200)
    now = time.time()
    created_at = body.created_at if body.created_at is not None else now
    if created_at > now + FUTURE_SLACK_S:  # a terminal clock running ahead: keep the rating, not its time
        log.warning("rating %s: created_at %.0f s in the future (terminal %s); stored with the server's time",
                    body.key, created_at - now, principal.name)
        created_at = now
    ticket_number = service = staff = None
    if body.ticket is not None:
        ticket = queue.store.get(body.ticket)
        if ticket is None:
            raise ApiError(404, "ticket", f"unknown ticket '{body.ticket}'", "not_found")
        if ticket.status is not TicketStatus.DONE or ticket.window is None:
            raise ApiError(409, "ticket", f"ticket {ticket.number} is {ticket.status.value}: only a finished (done) "
                                          "ticket can be rated", "not_finished")
        if body.window is not None and body.window != ticket.window:
            raise ApiError(422, "window", f"ticket {ticket.number} was finished at window {ticket.window}, "
                                          f"not {body.window}", "invalid_input")
        window, ticket_number, service = ticket.window, ticket.number, ticket.service
        with reader(rt.db) as conn:
            staff = conn.execute(sa.select(tickets.c.staff).where(tickets.c.id == ticket.id)).scalar()
    else:
        if body.window is None:
            raise ApiError(422, "window", "give the finished ticket, or the window for a walk-in rating",
                           "invalid_input")
        if not hall.walk_in_ratings:
            raise ApiError(422, "ticket", "this hall takes ratings for finished tickets only (no walk-in ratings)",
                           "invalid_input")
        window = body.window
        if hall.window(window) is not None:
            staff = duty_staff(request, window)
    terminal = principal.name if principal.kind == "terminal" else f"staff:{principal.name}"
    try:
        rating = make_rating(hall, key=body.key, level=body.level, window=window, reasons=body.reasons,
                             phone=body.phone or None, ticket_id=body.ticket, ticket_number=ticket_number,
                             staff=staff, service=service, terminal=terminal, created_at=created_at)
    except RatingError as exc:
        raise _refused(exc) from None
    _own_window(principal, window, "ticket" if body.ticket is not None else "window")
    stored, created = record_rating(rs, hall, rating)  # a new bad rating opens its follow-up (core rule)
    if created:
        # window only: who sees this stream (window staff, the hall TV) must not learn the level
        rt.hub.publish("rating_recorded", {"window": stored.window})
        # a rating of a day whose 日报 is already frozen makes a numbered correction
        daily_reports.note_late(rt.db, hall, {rs.local_day(stored.created_at).isoformat(): 1}, "rating(s)")
    followup = rs.followup_for(stored.id) if stored.bad else None
    out = rating_out(stored, hall, names, rs, followup.id if followup else None)
    return JSONResponse(out.model_dump(), status_code=201 if created else 200)


def _range(request: Request, date_from: str | None, date_to: str | None) -> tuple[Date, Date]:
    rs = store(request)
    today = rs.today()
    try:
        start = Date.fromisoformat(date_from) if date_from else None
    except ValueError:
        raise ApiError(422, "from", f"'{date_from}' is not a calendar date (YYYY-MM-DD)", "invalid_input") from None
    try:
        end = Date.fromisoformat(date_to) if date_to else None
    except ValueError:
        raise ApiError(422, "to", f"'{date_to}' is not a calendar date (YYYY-MM-DD)", "invalid_input") from None
    end = end or (start if start and start > today else today)
    start = start or end
    if start > end:
        raise ApiError(422, "from", "must not be after 'to'", "invalid_input")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ApiError(422, "from", f"a range of at most {MAX_RANGE_DAYS} days", "invalid_input")
    return start, end


def _filters(request: Request, window: int | None, service: str | None) -> None:
    hall = hall_runtime(request).queue().hall
    if window is not None and hall.window(window) is None:
        raise ApiError(404, "window", f"unknown window {window}", "not_found")
    if service is not None and hall.service(service) is None:
        raise ApiError(404, "service", f"unknown service '{service}'", "not_found")


WindowQ = Annotated[int | None, Query(ge=1, le=999)]
StaffQ = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
ServiceQ = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
FromQ = Annotated[Day | None, Query(alias="from", description="first local day, YYYY-MM-DD (default: to)")]
ToQ = Annotated[Day | None, Query(alias="to", description="last local day, inclusive (default: today)")]


@router.get("/ratings", response_model=list[RatingOut], summary="Ratings, newest first (supervisors)")
def list_ratings(request: Request, date_from: FromQ = None, date_to: ToQ = None, window: WindowQ = None,
                 staff: StaffQ = None, service: ServiceQ = None,
                 bad: Annotated[bool, Query(description="bad ratings (levels 1-2) only")] = False,
                 limit: Annotated[int, Query(ge=1, le=5000)] = 500,
                 principal=Depends(supervisor)) -> list[RatingOut]:
    rt = hall_runtime(request)
    rs = store(request)
    start, end = _range(request, date_from, date_to)
    _filters(request, window, service)
    hall, names = rt.queue().hall, _names(rt.db)
    found = rs.list(start, end, window=window, staff=staff, service=service, bad_only=bad, limit=limit)
    bad_ids = [r.id for r in found if r.bad]
    cases, judged, today = _cases(rt.db, bad_ids), verdicts(rt.db, bad_ids), rs.today()
    out = []
    for r in found:
        o = rating_out(r, hall, names, rs, cases[r.id][0] if r.id in cases else None)
        if r.id in cases:
            _, o.followup_state, due = cases[r.id]
            o.overdue = o.followup_state not in CLOSED_STATES and today > due
        o.verdict = judged[r.id].verdict if r.id in judged else None
        out.append(o)
    return out


def _cases(engine: sa.Engine, rating_ids: list[str]) -> dict[str, tuple[str, str, Date]]:
    """{rating id: (follow-up id, state, due date)}"""
    out = {}
    with reader(engine) as conn:
        for i in range(0, len(rating_ids), 500):
            for r in conn.execute(sa.select(followup_table.c.rating_id, followup_table.c.id, followup_table.c.state,
                                            followup_table.c.due_date)
                                  .where(followup_table.c.rating_id.in_(rating_ids[i:i + 500]))):
                out[r.rating_id] = (r.id, r.state, Date.fromisoformat(r.due_date))
    return out


@router.get("/stats/ratings", response_model=RatingStatsOut, tags=["stats"],
            summary="满意率: counts per level, total (rated), unrated, bad, satisfaction_rate; per day, window, "
                    "staff and service")
def stats_ratings(request: Request, date_from: FromQ = None, date_to: ToQ = None, window: WindowQ = None,
                  staff: StaffQ = None, service: ServiceQ = None, principal=Depends(supervisor)) -> RatingStatsOut:
    rt = hall_runtime(request)
    start, end = _range(request, date_from, date_to)
    _filters(request, window, service)
    return rating_stats(store(request), rt.queue().hall, _names(rt.db), start, end, window, staff, service)


@router.get("/stats/ratings.csv", tags=["stats"], response_class=Response,
            summary="The rating statistics and the bad ratings as CSV (UTF-8 with BOM, opens in Excel)",
            responses={200: {"content": {"text/csv": {}}}})
def stats_ratings_csv(request: Request, date_from: FromQ = None, date_to: ToQ = None, window: WindowQ = None,
                      staff: StaffQ = None, service: ServiceQ = None, principal=Depends(supervisor)) -> Response:
    rt = hall_runtime(request)
    start, end = _range(request, date_from, date_to)
    _filters(request, window, service)
    rs, hall, names = store(request), rt.queue().hall, _names(rt.db)
    stats = rating_stats(rs, hall, names, start, end, window, staff, service)
    bad = [rating_out(r, hall, names, rs) for r in
           rs.list(start, end, window=window, staff=staff, service=service, bad_only=True, limit=100_000)]
    return Response(stats_csv(stats, bad, rs.tz), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="ratings-{start}-{end}.csv"'})


# --------------------------------------------------------------- follow-ups

def _verification(v: Verdict | None) -> VerificationOut | None:
    return None if v is None else VerificationOut(verdict=v.verdict, verdict_name=VERDICT_NAMES[v.verdict],
                                                  reason=v.reason, by=v.by, at=v.at)


def followup_out(f: FollowUp, hall: Hall, names: dict, rs: RatingStore, today: Date,
                 verdict: Verdict | None = None) -> FollowUpOut:
    rating = rating_out(f.rating, hall, names, rs, f.id)
    rating.followup_state, rating.overdue = f.state, f.overdue(today)
    rating.verdict = verdict.verdict if verdict else None
    return FollowUpOut(verification=_verification(verdict), id=f.id, state=f.state, state_name=FOLLOWUP_STATE_NAMES[f.state],
                       due_date=f.due_date.isoformat(), overdue=f.overdue(today),
                       days_left=(f.due_date - today).days, created_at=f.created_at, rectified_at=f.rectified_at,
                       rectified_by=f.rectified_by, rectify_note=f.rectify_note, called_back_at=f.called_back_at,
                       called_back_by=f.called_back_by, callback_note=f.callback_note,
                       callback_satisfied=f.callback_satisfied, rating=rating)


@router.get("/followups", response_model=list[FollowUpOut], tags=["followups"],
            summary="整改/回访 cases of bad ratings, earliest due first (supervisors)")
def list_followups(request: Request,
                   state: Annotated[str | None, Query(pattern=r"^(open|rectified|called_back|rejected)$")] = None,
                   overdue: Annotated[bool | None, Query(description="past the due date and not closed (called "
                                                                     "back, or rejected on 核实)")] = None,
                   limit: Annotated[int, Query(ge=1, le=5000)] = 500,
                   principal=Depends(supervisor)) -> list[FollowUpOut]:
    rt = hall_runtime(request)
    rs = store(request)
    today = rs.today()
    hall, names = rt.queue().hall, _names(rt.db)
    cases = rs.followups(state, overdue, today, limit)
    judged = verdicts(rt.db, [f.rating_id for f in cases])
    return [followup_out(f, hall, names, rs, today, judged.get(f.rating_id)) for f in cases]


FollowUpId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def _step(request: Request, action, *args, **kw) -> FollowUpOut:
    rt = hall_runtime(request)
    rs = store(request)
    try:
        f = action(rs, *args, **kw)
    except RatingError as exc:
        raise _refused(exc) from None
    rt.hub.publish("followup_changed", {})
    return followup_out(f, rt.queue().hall, _names(rt.db), rs, rs.today(), verdicts(rt.db, [f.rating_id]).get(f.rating_id))


def _verify(rs: RatingStore, followup_id: str, verdict: str, reason: str, who: str) -> FollowUp:
    verify(rs.engine, rs.hall, followup_id, verdict, reason, who)
    return rs.followup(followup_id)


@router.post("/followups/{followup_id}/rectify", response_model=FollowUpOut, tags=["followups"],
             summary="整改: record what was done (open -> rectified; 409 otherwise)")
def rectify(followup_id: FollowUpId, body: RectifyIn, request: Request,
            act: Act = audited("followup.rectify", *SUPERVISORS)) -> FollowUpOut:
    act.note(f"followup {followup_id}", note=body.note)
    return _step(request, RatingStore.rectify, followup_id, body.note, act.principal.name)


@router.post("/followups/{followup_id}/callback", response_model=FollowUpOut, tags=["followups"],
             summary="回访: record the call back (rectified -> called_back; 409 otherwise)")
def callback(followup_id: FollowUpId, body: CallbackIn, request: Request,
             act: Act = audited("followup.callback", *SUPERVISORS)) -> FollowUpOut:
    act.note(f"followup {followup_id}", note=body.note, satisfied=body.satisfied)
    return _step(request, RatingStore.call_back, followup_id, body.note, act.principal.name, body.satisfied)


@router.post("/followups/{followup_id}/verify", response_model=FollowUpOut, tags=["followups"],
             summary="核实: confirm or reject the bad rating, with the reason (once, while open or rectified; "
                     "409 otherwise). A rejected one is kept, leaves 满意率, and its case closes")
def verify_followup(followup_id: FollowUpId, body: VerifyIn, request: Request,
                    act: Act = audited("followup.verify", *SUPERVISORS)) -> FollowUpOut:
    act.note(f"followup {followup_id}", verdict=body.verdict, reason=body.reason)
    return _step(request, _verify, followup_id, body.verdict, body.reason, act.principal.name)


@router.get("/rating-settings", response_model=RatingSettingsOut, tags=["followups"],
            summary="Follow-up deadline (working days) and the hall's rating settings")
def get_settings(request: Request, principal=Depends(supervisor)) -> RatingSettingsOut:
    hall = hall_runtime(request).queue().hall
    return RatingSettingsOut(followup_days=store(request).followup_days(), walk_in_ratings=hall.walk_in_ratings,
                             reasons=[ReasonOut(code=c, name=n) for c, n in hall.rating_reasons])


@router.put("/rating-settings", response_model=RatingSettingsOut, tags=["followups"],
            summary="Set the follow-up deadline in working days (applies to cases opened from now on)")
def put_settings(body: RatingSettingsIn, request: Request,
                 act: Act = audited("ratings.settings", *SUPERVISORS)) -> RatingSettingsOut:
    act.note("rating settings", followup_days=body.followup_days)
    principal = act.principal
    try:
        store(request).set_followup_days(body.followup_days)
    except RatingError as exc:
        raise _refused(exc) from None
    return get_settings(request, principal)
