"""Who is calling: bearer tokens (terminals, API clients) or the staff cookie (pages).

Cookie-authenticated writes must also carry ``X-CSRF-Token`` (the value
``/api/v1/auth/me`` hands to the page), because a browser attaches the cookie
to requests another site makes; a bearer token is never sent implicitly.
"""

from __future__ import annotations

import hmac
import os
import threading
import time

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPBearer

from . import accounts
from .accounts import Principal
from .errors import ApiError
from .halls import bind

COOKIE = "kiosk_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
STAFF = ("window", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")
ADMINS = ("admin",)
TERMINAL = ("terminal",)
# A revoked token or ended session stops working within this long (at once where the server revokes
# it: in every process on PostgreSQL, see server/event_relay.py). $KIOSK_TOKEN_CACHE_S overrides it.
CACHE_S = float(os.environ.get("KIOSK_TOKEN_CACHE_S", "5"))
VIEWERS = ("county-viewer",)  # add to a read route's roles: statistics, ratings, follow-ups of every hall


class Credential(HTTPBearer):
    """The request's credential, ``(token or None, came by cookie)``: the bearer token, else the staff cookie.

    Documented as the bearer scheme; ``hall_rules.document`` adds the cookie scheme (``COOKIE_SCHEME``)
    beside it on every operation that takes it. ``identify``, ``requires(...)`` and ``audited(...)`` are
    instances of its subclasses: one dependency each, reading the credential themselves (every dependency,
    and every level of them, costs FastAPI a solve per request, and these run on every authenticated request).
    """

    def __init__(self):
        super().__init__(auto_error=False, scheme_name="HTTPBearer",
                         description="A staff session token or a terminal token")

    @staticmethod
    def sent(request: Request) -> tuple[str | None, bool]:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token:
            return token, False
        return request.cookies.get(COOKIE) or None, True

    async def __call__(self, request: Request) -> tuple[str | None, bool]:  # type: ignore[override]
        return self.sent(request)


COOKIE_SCHEME = APIKeyCookie(name=COOKIE, auto_error=False, description="Staff session cookie (browser pages)")


class TokenCache:
    """Saves a database read per request for a busy terminal; short-lived on purpose."""

    def __init__(self):
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        self.announce = None  # set on PostgreSQL: tells the other server processes to forget too

    def get(self, token: str) -> Principal | None:
        hit = self._entries.get(token)
        if hit and hit[1] > time.time():
            return hit[0]
        return None

    def put(self, token: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token] = (principal, min(principal.expires_at, time.time() + CACHE_S))

    def forget(self, token: str | None = None) -> None:
        """Drop ``token`` (all when None) here and, through the relay, every process's whole cache."""
        self.forget_here(token)
        if self.announce is not None:
            self.announce()

    def forget_here(self, token: str | None = None) -> None:
        with self._lock:
            if token is None:
                self._entries.clear()
            else:
                self._entries.pop(token, None)


class Identify(Credential):
    """Who is calling (a ``Principal``), or None for nobody known (public routes)."""

    async def __call__(self, request: Request) -> Principal | None:  # type: ignore[override]
        return await principal_of(request, *self.sent(request))


identify = Identify()


async def principal_of(request: Request, token: str | None, via_cookie: bool) -> Principal | None:
    """Who sent ``token`` (None: nobody known), with the request's hall bound (``halls.bind``); a write
    that came with the cookie must carry the CSRF token. A token not cached is looked up in a worker thread."""
    if not token or len(token) > 200:
        return None
    cache: TokenCache = request.app.state.tokens
    principal = cache.get(token)
    if principal is None:
        principal = await run_in_threadpool(accounts.resolve, request.app.state.county.db, token)
        if principal is None:
            return None
        cache.put(token, principal)
    if via_cookie and request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not principal.csrf or not hmac.compare_digest(sent.encode(), principal.csrf.encode()):
            raise ApiError(403, "X-CSRF-Token", "missing or wrong CSRF token; reload the page", "csrf")
    bind(request, principal)  # the request's hall: its own, or (county users) the one it names
    return principal


def admitted(principal: Principal, roles: tuple[str, ...]) -> bool:
    """The county admin passes wherever hall staff may; the county viewer only where named."""
    if principal.role in roles:
        return True
    return principal.role == "county-admin" and any(r in STAFF for r in roles)


class Requires(Credential):
    """A dependency admitting only the given roles ('terminal' for enrolled terminals): the ``Principal``."""

    def __init__(self, roles: tuple[str, ...]):
        super().__init__()
        self.__roles__ = roles

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        return signed_in(await principal_of(request, *self.sent(request)), self.__roles__)


def signed_in(principal: Principal | None, roles: tuple[str, ...]) -> Principal:
    """``principal`` if one of ``roles`` may call (401 for nobody known, 403 for another role)."""
    if principal is None:
        raise ApiError(401, "Authorization", "sign in, or send Authorization: Bearer TOKEN", "unauthorized")
    if not admitted(principal, roles):
        raise ApiError(403, "Authorization", f"this needs one of the roles: {', '.join(roles)}", "forbidden")
    return principal


def requires(*roles: str) -> Requires:
    """A dependency admitting only the given roles ('terminal' for enrolled terminals)."""
    return Requires(roles)
