"""The window's staff on duty (the evaluator's idle screen) and staff photos.

Who is on duty at a window: today's last caller there, else the active window
clerk whose usual window it is. Photos are JPEG, PNG or WebP (checked by their
magic bytes, at most ``staff_profile.MAX_PHOTO``), stored by
``server/staff_profile.py``; supervisors set and remove them.
"""

from __future__ import annotations

from typing import Annotated

import anyio
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from kiosk.storage.db import reader
from kiosk.storage.schema import tickets

from .halls import hall_runtime
from . import staff_profile
from .audit import Act, audited
from .auth import STAFF, SUPERVISORS, TERMINAL, requires
from .errors import ApiError
from .rating_models import DutyOut, DutyService, DutyStaff
from .schema import users

router = APIRouter(prefix="/api/v1")


def staff_names(engine: sa.Engine, hall: str | None = None) -> dict[str, tuple[str, str]]:
    """username -> (display name, 工号) of every account (of ``hall`` only, when given)."""
    with reader(engine) as conn:
        return {u.username: (u.display_name or u.username, u.staff_no or "")
                for u in conn.execute(sa.select(users.c.username, users.c.display_name, users.c.staff_no)
                                      .where(*([users.c.hall == hall] if hall else [])))}


def duty_staff(request: Request, number: int) -> str | None:
    """Username on duty at a window: today's last caller there, else whose usual window it is."""
    rt = hall_runtime(request)
    queue = rt.queue()
    with reader(rt.db) as conn:
        name = conn.execute(sa.select(tickets.c.staff)
                            .where(tickets.c.hall == queue.hall.code, tickets.c.day == queue.today(),
                                   tickets.c.window == number, tickets.c.staff.is_not(None),
                                   tickets.c.called_at.is_not(None))
                            .order_by(tickets.c.called_at.desc()).limit(1)).scalar()
        if name is None:
            name = conn.execute(sa.select(users.c.username)
                                .where(users.c.window == number, users.c.active.is_(True),
                                       users.c.role == "window", users.c.hall == rt.code)
                                .order_by(users.c.username).limit(1)).scalar()
    return name



@router.get("/windows/{number}/duty", response_model=DutyOut, tags=["windows"],
            summary="The evaluator's idle screen: window, services, staff on duty (name, 工号, photo)")
def duty(request: Request, number: Annotated[int, Path(ge=1, le=999)],
         principal=Depends(requires(*TERMINAL, *STAFF))) -> DutyOut:
    rt = hall_runtime(request)
    hall = rt.queue().hall
    w = hall.window(number)
    if w is None:
        raise ApiError(404, "number", f"unknown window {number}", "not_found")
    username = duty_staff(request, number)
    staff = None
    if username is not None:
        name, staff_no = staff_names(rt.db).get(username, (username, ""))
        stamp = staff_profile.photo_stamp(rt.db, username)
        staff = DutyStaff(name=name, staff_no=staff_no or None,
                          photo_url=f"/api/v1/users/{username}/photo?v={int(stamp)}" if stamp else None)
    services = [DutyService(code=c, name=s.name if (s := hall.service(c)) else c) for c in w.services]
    return DutyOut(window=w.number, name=w.name, services=services, staff=staff,
                   walk_in_ratings=hall.walk_in_ratings)


Username = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


def _known_user(request: Request, username: str) -> None:
    """404 unless ``username`` works in the request's hall."""
    rt = hall_runtime(request)
    if username not in staff_names(rt.db, rt.code):
        raise ApiError(404, "username", f"unknown user '{username}'", "not_found")


@router.get("/users/{username}/photo", tags=["staff"], response_class=Response,
            summary="A staff member's photo (JPEG, PNG or WebP)",
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
def get_photo(request: Request, username: Username, principal=Depends(requires(*TERMINAL, *STAFF))) -> Response:
    _known_user(request, username)
    found = staff_profile.photo(hall_runtime(request).db, username)
    if found is None:
        raise ApiError(404, "username", f"no photo for '{username}'", "not_found")
    data, content_type, _ = found
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


@router.put("/users/{username}/photo", status_code=204, tags=["staff"],
            summary="Set a staff member's photo: the raw image as the body (JPEG, PNG or WebP, at most 1 MB)")
async def put_photo(request: Request, username: Username,
                    act: Act = audited("user.photo", *SUPERVISORS)) -> Response:
    act.note(f"user {username}")
    data = await request.body()
    if len(data) > staff_profile.MAX_PHOTO:
        raise ApiError(413, "body", f"the photo is larger than {staff_profile.MAX_PHOTO // 1000} kB", "too_large")
    content_type = staff_profile.image_type(data)
    if content_type is None:
        raise ApiError(415, "body", "send a JPEG, PNG or WebP image", "unsupported_media_type")
    def save() -> None:
        _known_user(request, username)
        staff_profile.set_photo(hall_runtime(request).db, username, data, content_type)

    await anyio.to_thread.run_sync(save)
    return Response(status_code=204)


@router.delete("/users/{username}/photo", status_code=204, tags=["staff"], summary="Remove a staff member's photo")
def delete_photo(request: Request, username: Username,
                 act: Act = audited("user.photo_delete", *SUPERVISORS)) -> Response:
    act.note(f"user {username}")
    _known_user(request, username)
    staff_profile.delete_photo(hall_runtime(request).db, username)
    return Response(status_code=204)
