"""Staff sign-in: a bearer token for API clients, and a cookie for the browser pages."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Request, Response

from . import accounts, audit
from .auth import COOKIE, STAFF, identify, requires
from .errors import ApiError
from .models import LoginIn, LoginOut, MeOut
from .throttle import DEVICE_COOKIE, DEVICE_TTL_S, Throttle

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _throttle(request: Request) -> Throttle:
    found = getattr(request.app.state, "throttle", None)
    if found is None:
        found = request.app.state.throttle = Throttle(request.app.state.county.db)
    return found


@router.post("/login", response_model=LoginOut, summary="Staff sign-in",
             responses={401: {"description": "wrong username or password"},
                        429: {"description": "wait (Retry-After seconds) before the next try; a known device "
                                            "does not wait"}})
def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    db = request.app.state.county.db
    throttle = _throttle(request)
    client = request.client.host if request.client else "?"
    device_token = body.device or request.cookies.get(DEVICE_COOKIE)
    device = throttle.known_device(body.username, device_token)
    wait = throttle.wait_s(body.username, client, device)
    if wait > 0:
        audit.record(db, body.username, "staff", "", "auth.login", f"user {body.username}",
                     {"known_device": bool(device)}, "throttled", 429, client, accounts.hall_of(db, body.username))
        raise ApiError(429, "password", f"too many wrong passwords; try again in {math.ceil(wait)} s / "
                                        f"密码错误次数过多，请 {math.ceil(wait)} 秒后再试", "too_many_attempts",
                       headers={"Retry-After": str(math.ceil(wait))})
    try:
        token, who = accounts.login(db, body.username, body.password)
    except accounts.AccountError:
        throttle.failed(body.username, client, device)
        audit.record(db, body.username, "staff", "", "auth.login", f"user {body.username}",
                     {"known_device": bool(device)}, "refused", 401, client, accounts.hall_of(db, body.username))
        raise
    new_device = throttle.succeeded(who.name, device)
    audit.record(db, who.name, "staff", who.role, "auth.login", f"user {who.name}",
                 {"known_device": bool(device)}, "ok", 200, client, who.hall)
    secure = request.url.scheme == "https"
    if body.cookie:
        response.set_cookie(COOKIE, token, max_age=accounts.SESSION_TTL_S, httponly=True, samesite="strict",
                            secure=secure, path="/")
    if new_device and body.cookie:
        response.set_cookie(DEVICE_COOKIE, new_device, max_age=DEVICE_TTL_S, httponly=True, samesite="strict",
                            secure=secure, path="/api/v1/auth")
    return LoginOut(token=token, expires_at=who.expires_at, username=who.name, role=who.role, csrf=who.csrf,
                    device=new_device or device_token or "")


@router.post("/logout", status_code=204, summary="End this session")
def logout(request: Request, response: Response, principal=Depends(requires(*STAFF))) -> Response:
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
    accounts.logout(request.app.state.county.db, token)
    request.app.state.tokens.forget(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=MeOut, summary="Who this token or cookie belongs to (and the page's CSRF token)")
async def me(principal=Depends(identify)) -> MeOut:
    if principal is None:
        raise ApiError(401, "Authorization", "not signed in", "unauthorized")
    return MeOut(kind=principal.kind, name=principal.name, display_name=principal.display_name,
                 role=principal.role, window=principal.window, csrf=principal.csrf, expires_at=principal.expires_at,
                 hall=principal.hall)
