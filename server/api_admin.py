"""Supervisor and admin routes: services, windows, staff accounts, statistics."""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kiosk.hall_model import parse_hours
from kiosk.domain import Service, Window

from . import accounts, hall_store
from .accounts import Principal
from .audit import Act, audited
from .auth import SUPERVISORS, VIEWERS, requires
from .errors import ApiError
from .halls import hall_runtime
from .models import Day, ServiceIn, ServiceOut, StatsOut, UserIn, UserOut, UserPatch, WindowIn, WindowOut
from .stats import day_stats, to_csv
from .views import services_out, window_out

router = APIRouter(prefix="/api/v1", tags=["admin"])
supervisor = requires(*SUPERVISORS)
viewer = requires(*SUPERVISORS, *VIEWERS)  # reads the county viewer may do too


def _service(body: ServiceIn) -> Service:
    hours = parse_hours(body.hours)  # the model checked it (kiosk/hall_model.py::Hours)
    if body.range_start > body.range_end:
        raise ApiError(422, "range_end", "must not be below range_start", "invalid_input")
    return Service(code=body.code, name=body.name, prefix=body.prefix, range_start=body.range_start,
                   range_end=body.range_end, daily_cap=body.daily_cap, hours=hours, icon=body.icon,
                   average_minutes=body.average_minutes, enabled=body.enabled, description=body.description)


def _applied(request: Request) -> list[ServiceOut]:
    rt = hall_runtime(request)
    rt.reload()
    return services_out(rt.engine)


@router.post("/services", response_model=list[ServiceOut], status_code=201, summary="Add a service")
def add_service(body: ServiceIn, request: Request, act: Act = audited("service.add", *SUPERVISORS)) \
        -> list[ServiceOut]:
    act.note(f"service {body.code}", **body.model_dump())
    rt = hall_runtime(request)
    hall_store.add_service(rt.db, rt.code, _service(body), body.windows)
    return _applied(request)


@router.put("/services/{code}", response_model=list[ServiceOut], summary="Change a service (code stays)")
def update_service(body: ServiceIn, request: Request,
                   code: str = Path(pattern=r"^[a-z][a-z0-9_-]{0,31}$"),
                   act: Act = audited("service.update", *SUPERVISORS)) -> list[ServiceOut]:
    act.note(f"service {code}", **body.model_dump())
    if body.code != code:
        raise ApiError(422, "code", "the body's code must match the address", "invalid_input")
    rt = hall_runtime(request)
    existing = rt.queue().hall.service(code)
    svc = _service(body)
    if existing is not None:  # keep what the form does not edit
        from dataclasses import replace

        svc = replace(svc, closed_weekdays=existing.closed_weekdays, observe_holidays=existing.observe_holidays)
    hall_store.update_service(rt.db, rt.code, svc)
    return _applied(request)


def _save_window(body: WindowIn, request: Request, creating: bool) -> list[WindowOut]:
    rt = hall_runtime(request)
    hall_store.save_window(rt.db, rt.code, Window(body.number, body.name, tuple(body.services), body.green_channel),
                           creating)
    rt.reload()
    return [window_out(rt.engine, w.number) for w in rt.engine.hall.windows]


@router.post("/windows", response_model=list[WindowOut], status_code=201, tags=["windows"], summary="Add a window")
def add_window(body: WindowIn, request: Request, act: Act = audited("window.add", *SUPERVISORS)) -> list[WindowOut]:
    act.note(f"window {body.number}", **body.model_dump())
    return _save_window(body, request, creating=True)


@router.put("/windows/{number}", response_model=list[WindowOut], tags=["windows"], summary="Change a window")
def update_window(body: WindowIn, request: Request, number: int = Path(ge=1, le=999),
                  act: Act = audited("window.update", *SUPERVISORS)) -> list[WindowOut]:
    act.note(f"window {number}", **body.model_dump())
    if body.number != number:
        raise ApiError(422, "number", "the body's number must match the address", "invalid_input")
    return _save_window(body, request, creating=False)


# ------------------------------------------------------------------ staff

class HallAddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public_url: str = Field(max_length=200, description="e.g. http://192.168.1.10:8080; '' prints no QR codes")


@router.get("/hall", tags=["hall"], summary="The hall's name, code and public address")
def get_hall(request: Request, principal=Depends(viewer)) -> dict:
    hall = hall_runtime(request).queue().hall
    return {"name": hall.name, "code": hall.code, "public_url": hall.public_url}


@router.put("/hall/public-url", tags=["hall"],
            summary="Where phones reach this server: tickets' and notice slips' QR codes point here (synced to terminals)")
def put_public_url(body: HallAddressIn, request: Request, act: Act = audited("hall.public_url", *SUPERVISORS)) -> dict:
    act.note("hall", public_url=body.public_url)
    rt = hall_runtime(request)
    try:
        hall = hall_store.set_public_url(rt.db, rt.code, body.public_url)
    except hall_store.HallEditError as exc:
        raise ApiError(exc.status, exc.field, str(exc), "invalid_input") from None
    rt.reload()
    return {"name": hall.name, "code": hall.code, "public_url": hall.public_url}


def _may_manage(principal: Principal, role: str) -> None:
    """Supervisors manage window staff; only an admin makes supervisors and admins."""
    if principal.role not in ("admin", "county-admin") and role != "window":
        raise ApiError(403, "role", "only an admin can manage supervisors and admins", "forbidden")


@router.get("/users", response_model=list[UserOut], tags=["staff"], summary="Staff accounts")
def list_users(request: Request, principal=Depends(supervisor)) -> list[UserOut]:
    rt = hall_runtime(request)
    return [UserOut(**u) for u in accounts.list_users(rt.db, rt.code)]


@router.post("/users", response_model=UserOut, status_code=201, tags=["staff"], summary="Add a staff account")
def add_user(body: UserIn, request: Request, act: Act = audited("user.add", *SUPERVISORS)) -> UserOut:
    principal = act.principal
    act.note(f"user {body.username}", **body.model_dump(exclude={"password"}))
    _may_manage(principal, body.role)
    rt = hall_runtime(request)
    if body.role not in accounts.HALL_ROLES:
        raise ApiError(422, "role", f"must be one of {', '.join(accounts.HALL_ROLES)} (county accounts: "
                                    "kiosk admin add-user)", "invalid_input")
    accounts.add_user(rt.db, body.username, body.role, body.password, body.display_name, body.staff_no, body.window,
                      hall=rt.code)
    return next(UserOut(**u) for u in accounts.list_users(rt.db, rt.code) if u["username"] == body.username)


@router.patch("/users/{username}", response_model=UserOut, tags=["staff"],
              summary="Change role, password, window or deactivate (signs the user out)")
def patch_user(body: UserPatch, request: Request, username: str = Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$"),
               act: Act = audited("user.update", *SUPERVISORS)) -> UserOut:
    principal = act.principal
    act.note(f"user {username}", **body.model_dump(exclude={"password"}, exclude_none=True),
             password_changed=body.password is not None)
    rt = hall_runtime(request)
    db = rt.db
    current = next((u for u in accounts.list_users(db, rt.code) if u["username"] == username), None)
    if current is None:
        raise ApiError(404, "username", f"unknown user '{username}'", "not_found")
    _may_manage(principal, current["role"])
    if body.role:
        _may_manage(principal, body.role)
    if username == principal.name and (body.active is False or (body.role and body.role != principal.role)):
        raise ApiError(409, "username", "you cannot deactivate or demote yourself", "refused")
    accounts.update_user(db, username, hall=rt.code, **body.model_dump())
    request.app.state.tokens.forget()
    return next(UserOut(**u) for u in accounts.list_users(db, rt.code) if u["username"] == username)


# ------------------------------------------------------------------ stats

def _day(request: Request, date: str | None) -> str:
    day = date or hall_runtime(request).queue().today()
    try:
        Date.fromisoformat(day)
    except ValueError:
        raise ApiError(422, "date", f"'{day}' is not a calendar date (YYYY-MM-DD)", "invalid_input") from None
    return day


@router.get("/stats", response_model=StatsOut, tags=["stats"],
            summary="A day's tickets, mean and p90 wait, mean service time per service, window and staff")
def stats(request: Request, date: Annotated[Day | None, Query()] = None, principal=Depends(viewer)) -> StatsOut:
    rt = hall_runtime(request)
    return day_stats(rt.db, rt.queue().hall, _day(request, date))


@router.get("/stats.csv", tags=["stats"], summary="The same statistics as CSV (UTF-8 with BOM, opens in Excel)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def stats_csv(request: Request, date: Annotated[Day | None, Query()] = None, principal=Depends(viewer)) -> Response:
    rt = hall_runtime(request)
    day = _day(request, date)
    return Response(to_csv(day_stats(rt.db, rt.queue().hall, day)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="hall-stats-{day}.csv"'})
