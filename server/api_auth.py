"""Staff sign-in: a bearer token for API clients, and a cookie for the browser pages."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from fastapi import APIRouter, Depends, Request, Response

from . import accounts
from .auth import COOKIE, STAFF, identify, requires
from .errors import ApiError
from .models import LoginIn, LoginOut, MeOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

FAILURE_WINDOW_S = 300
MAX_PER_USER = 5
MAX_PER_ADDRESS = 30  # several clerks may sit behind one address


class Throttle:
    """Too many wrong passwords for a name or from an address within five minutes: wait."""

    def __init__(self):
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        now = time.time()
        with self._lock:
            for key in keys:
                q = self._failures.get(key)
                while q and q[0] < now - FAILURE_WINDOW_S:
                    q.popleft()
                limit = MAX_PER_USER if key.startswith("user:") else MAX_PER_ADDRESS
                if q is not None and len(q) >= limit:
                    return True
        return False

    def fail(self, *keys: str) -> None:
        with self._lock:
            if len(self._failures) > 50_000:
                self._failures.clear()
            for key in keys:
                self._failures[key].append(time.time())


_throttle = Throttle()


@router.post("/login", response_model=LoginOut, summary="Staff sign-in",
             responses={401: {"description": "wrong username or password"}, 429: {"description": "too many tries"}})
def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    client = request.client.host if request.client else "?"
    keys = (f"user:{body.username.lower()}", f"addr:{client}")
    if _throttle.blocked(*keys):
        raise ApiError(429, "password", "too many wrong passwords; wait five minutes / 错误次数过多，请五分钟后再试",
                       "too_many_attempts")
    try:
        token, who = accounts.login(request.app.state.runtime.db, body.username, body.password)
    except accounts.AccountError:
        _throttle.fail(*keys)
        raise
    if body.cookie:
        response.set_cookie(COOKIE, token, max_age=accounts.SESSION_TTL_S, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
    return LoginOut(token=token, expires_at=who.expires_at, username=who.name, role=who.role, csrf=who.csrf)


@router.post("/logout", status_code=204, summary="End this session")
def logout(request: Request, response: Response, principal=Depends(requires(*STAFF))) -> Response:
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
    accounts.logout(request.app.state.runtime.db, token)
    request.app.state.tokens.forget(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=MeOut, summary="Who this token or cookie belongs to (and the page's CSRF token)")
async def me(principal=Depends(identify)) -> MeOut:
    if principal is None:
        raise ApiError(401, "Authorization", "not signed in", "unauthorized")
    return MeOut(kind=principal.kind, name=principal.name, display_name=principal.display_name,
                 role=principal.role, window=principal.window, csrf=principal.csrf, expires_at=principal.expires_at)
