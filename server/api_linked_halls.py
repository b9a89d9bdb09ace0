"""Routes of the county side of linked halls (``server/county_inbox.py``).

- ``POST /api/v1/county/link``: a hall server spends the one-time code the
  county made for it (``kiosk admin county-link-code``) and gets its token.
  No sign-in: the code is the credential; 403 for an unknown, used or
  expired one.
- ``POST /api/v1/county/batch``: the hall server's pushes, with its token.
  Each event ``{key, kind, payload}`` gets ``applied``, ``duplicate`` (its key
  was applied before: nothing changes) or ``rejected`` (with field and
  error). The hall is the token's: a payload cannot write another hall.
- ``GET /api/v1/county/linked-halls``: the linked halls with the time of
  their last push and last report, and today's 满意率 as pushed (county users).
- ``GET /api/v1/county/linked-halls/{hall}/reports/{day}``: a linked hall's
  report for a day with its numbered corrections.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StringConstraints

from . import county_inbox
from .accounts import COUNTY_ROLES
from .auth import requires
from .errors import ApiError
from .models import HALL_CODE_PATTERN, Day, Strict

router = APIRouter(prefix="/api/v1/county", tags=["county link"])
_bearer = HTTPBearer(auto_error=False, scheme_name="LinkedHallBearer", description="A linked hall server's token")
# county-wide readers: county users only (a hall's own admin sees its hall, not the county's links)
READERS = COUNTY_ROLES

HallCode = Annotated[str, StringConstraints(pattern=HALL_CODE_PATTERN)]


class LinkIn(Strict):
    code: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9 -]+$")] = Field(
        description="the one-time code the county made for this hall")
    hall: HallCode | None = Field(None, description="what the hall server calls its hall (kept for reference)")


class LinkOut(BaseModel):
    hall: str = Field(description="the county's code for this hall: every push lands in this hall")
    name: str
    token: str = Field(description="send as Authorization: Bearer with every push")


class EventIn(Strict):
    key: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[\x21-\x7e]+$")]
    kind: Literal["rating", "followup", "report"]
    payload: dict


class BatchIn(Strict):
    events: Annotated[list[EventIn], Field(max_length=500)]


class Result(BaseModel):
    key: str
    outcome: str = Field(description="applied | duplicate | rejected")
    field: str | None = None
    error: str | None = None


class BatchOut(BaseModel):
    hall: str
    results: list[Result]


class LinkedHallOut(BaseModel):
    code: str
    name: str
    remote_code: str | None
    linked_at: float | None
    last_push_at: float | None
    last_report_at: float | None
    last_report_day: str | None
    ratings: int
    rated_today: int = Field(description="ratings of today pushed so far (rated visits)")
    satisfaction_rate: float | None = Field(description="满意率 of those, 0-1 (核实不属实 left out); null: none")


def _engine(request: Request):
    return request.app.state.county.db  # tables made at startup (server/app.py)


def linked_hall(request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
    """The linked hall whose token this is (401 otherwise)."""
    hall = county_inbox.hall_of(_engine(request), bearer.credentials if bearer else "")
    if hall is None:
        raise ApiError(401, "Authorization", "send the token this hall got from POST /api/v1/county/link",
                       "unauthorized")
    return hall


@router.post("/link", response_model=LinkOut, status_code=201,
             summary="A hall server spends the county's one-time code and gets its push token")
def link(body: LinkIn, request: Request) -> LinkOut:
    try:
        hall, name, token = county_inbox.link(_engine(request), body.code, body.hall or "")
    except county_inbox.LinkError as exc:
        raise ApiError(exc.status, exc.field, str(exc), "forbidden" if exc.status == 403 else "invalid_input")
    return LinkOut(hall=hall, name=name, token=token)


@router.post("/batch", response_model=BatchOut,
             summary="A linked hall's ratings, follow-up changes and daily reports, each applied once by key")
def batch(body: BatchIn, request: Request, hall: str = Depends(linked_hall)) -> BatchOut:
    outcomes = county_inbox.apply(_engine(request), hall, [e.model_dump() for e in body.events])
    return BatchOut(hall=hall, results=[Result(**o.__dict__) for o in outcomes])


@router.get("/linked-halls", response_model=list[LinkedHallOut],
            summary="Halls that report from their own hall server, with their last push and last report")
def linked_halls(request: Request, principal=Depends(requires(*READERS))) -> list[LinkedHallOut]:
    engine = _engine(request)
    tz = request.app.state.county.first.queue().hall.timezone  # the county's own zone
    return [LinkedHallOut(**h, **county_inbox.today_figures(engine, h["code"], tz))
            for h in county_inbox.linked(engine)]


@router.get("/linked-halls/{hall}/reports/{day}", summary="A linked hall's daily report and its corrections")
def linked_reports(request: Request, hall: Annotated[str, Path(pattern=HALL_CODE_PATTERN)],
                   day: Annotated[str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$")],
                   principal=Depends(requires(*READERS))) -> JSONResponse:
    engine = _engine(request)
    if hall not in {h["code"] for h in county_inbox.linked(engine)}:
        raise ApiError(404, "hall", f"no linked hall '{hall}'", "not_found")
    return JSONResponse({"hall": hall, "day": day, "reports": county_inbox.day_reports(engine, hall, day)})
