"""The county's view of its halls: ``GET /api/v1/halls`` and the live overview ``GET /api/v1/county``.

``/api/v1/halls`` lists the halls a credential may see (county users: all of
them; a terminal or hall staff member: its own). ``/api/v1/county`` is one
row per hall with its live state, for the ``/county`` page (county users only);
the page polls it and also refreshes on each hall's event stream.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from kiosk.domain import TicketStatus
from kiosk.ratings import RatingStore
from kiosk.storage.db import reader
from kiosk.storage.schema import tickets

from . import accounts
from .accounts import Principal
from .api_terminals import ONLINE_WITHIN_S
from .auth import STAFF, TERMINAL, requires
from .halls import visible_halls
from .views import window_out

router = APIRouter(prefix="/api/v1", tags=["county"])
COUNTY = requires("county-admin", "county-viewer")
PAPER_WARNINGS = {"near_end": "纸将用尽", "out": "缺纸"}


class HallOut(BaseModel):
    code: str
    name: str


class ServiceWaiting(BaseModel):
    code: str
    name: str
    waiting: int


class WindowCalling(BaseModel):
    number: int
    name: str
    number_called: str = Field(description="the ticket called or being served there")
    status: str


class TerminalWarning(BaseModel):
    name: str
    paper: str
    text: str


class HallState(BaseModel):
    code: str
    name: str
    day: str = Field(description="the hall's local day")
    waiting: int
    services: list[ServiceWaiting]
    calling: list[WindowCalling]
    windows_paused: int
    terminals_online: int
    terminals_offline: int
    paper_warnings: list[TerminalWarning]
    tickets_today: int
    rated_today: int
    satisfaction_rate: float | None = Field(description="满意率 today: levels 3-5 over rated visits; null: none rated")


class CountyOut(BaseModel):
    at: float
    halls: list[HallState]


@router.get("/halls", response_model=list[HallOut], summary="The halls this credential may see "
                                                            "(county users: every hall; others: their own)")
def halls(request: Request, principal: Principal = Depends(requires(*STAFF, *TERMINAL, "county-admin",
                                                                         "county-viewer"))) -> list[HallOut]:
    county = request.app.state.county
    names = county.names()
    return [HallOut(code=c, name=names[c]) for c in visible_halls(county, principal)]


def hall_state(rt) -> HallState:
    queue = rt.queue()
    hall = queue.hall
    day = queue.today()
    services = [ServiceWaiting(code=s.service.code, name=s.service.name, waiting=s.waiting) for s in queue.services()]
    calling, paused = [], 0
    for w in hall.windows:
        out = window_out(queue, w.number)
        paused += out.paused
        if out.current is not None:
            calling.append(WindowCalling(number=w.number, name=w.name, number_called=out.current.number,
                                         status=out.current.status))
    now = time.time()
    online = offline = 0
    warnings = []
    for t in accounts.list_terminals(rt.db, rt.code):
        if t["revoked"]:
            continue
        if (t["last_seen"] or 0) > now - ONLINE_WITHIN_S:
            online += 1
        else:
            offline += 1
        if t["paper"] in PAPER_WARNINGS:
            warnings.append(TerminalWarning(name=t["name"], paper=t["paper"], text=PAPER_WARNINGS[t["paper"]]))
    with reader(rt.db) as conn:
        issued = conn.execute(sa.select(sa.func.count()).select_from(tickets)
                              .where(tickets.c.hall == rt.code, tickets.c.day == day,
                                     tickets.c.status != TicketStatus.CANCELLED.value)).scalar()
    rs = getattr(rt, "rating_store", None)
    if rs is None:
        rs = rt.rating_store = RatingStore(rt.db, rt.code, hall.timezone)
    rated = rs.stats(day, day)
    return HallState(code=rt.code, name=hall.name, day=day, waiting=sum(s.waiting for s in services),
                     services=services, calling=calling, windows_paused=paused, terminals_online=online,
                     terminals_offline=offline, paper_warnings=warnings, tickets_today=issued,
                     rated_today=rated["total"],
                     satisfaction_rate=None if rated["satisfaction_rate"] is None
                     else round(rated["satisfaction_rate"], 4))


@router.get("/county", response_model=CountyOut, summary="Every hall's live state, one row per hall "
                                                          "(county users; the /county page)")
def county_overview(request: Request, principal: Principal = Depends(COUNTY)) -> CountyOut:
    county = request.app.state.county
    return CountyOut(at=time.time(), halls=[hall_state(county.hall(c)) for c in county.codes()])
