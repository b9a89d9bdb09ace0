"""Which hall a request works on, and who may see which hall (issue 13: a county server).

Two ways to name the hall, one set of routes:

- credential-implied: ``/api/v1/...`` works on the hall of the terminal token or
  the hall staff member signed in (and, for anonymous public routes and county
  users, on the only hall of a one-hall server);
- explicit: ``/api/v1/halls/{hall}/...`` is the same route for hall ``{hall}``.
  ``HallPrefix`` (ASGI) strips the prefix and remembers the hall; a terminal
  or hall user naming another hall gets 403, a county user naming an unknown
  hall 404.

County users (``county-admin``, ``county-viewer``) belong to no hall: on a
server with several halls they name one. ``GET /api/v1/halls`` lists the halls
a credential may see. Every route declares its hall rule in
``server/hall_rules.py::RULES`` (checked by ``tests/test_server_halls.py``).
"""

from __future__ import annotations

import re

from fastapi import Request

from .accounts import Principal
from .errors import ApiError

HALL_KEY = "kiosk.hall"  # the ASGI scope key holding the hall named in the path
_PREFIX = re.compile(r"^/api/v1/halls/([a-z][a-z0-9_-]{0,31})(/.+)$")


class HallPrefix:
    """``/api/v1/halls/{hall}/REST`` -> ``/api/v1/REST`` with the hall kept in the scope."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            m = _PREFIX.match(scope["path"])
            if m:
                from .hall_rules import hall_less

                rest = "/api/v1" + m.group(2)
                if hall_less(rest):  # sign-in, the hall list: no hall to name
                    rest = "/api/v1/halls/-/not-found"
                scope = dict(scope, path=rest, raw_path=rest.encode(), **{HALL_KEY: m.group(1)})
        await self.app(scope, receive, send)


def named_hall(request: Request) -> str | None:
    """The hall named in the path (``/api/v1/halls/{hall}/...``), if any."""
    return request.scope.get(HALL_KEY) or None


def bind(request: Request, principal: Principal) -> None:
    """Decide the request's hall for a known credential (called by ``server/auth.py::identify``).

    A terminal or hall user works in its own hall only: naming another is refused (403) before the
    route runs. A county user may name any hall that exists (404 otherwise).
    """
    county = request.app.state.county
    named = named_hall(request)
    if principal.county:
        if named is None:
            rt = county.only()
        else:
            rt = county.hall(named)
            if rt is None:
                raise ApiError(404, "hall", f"unknown hall '{named}'", "not_found")
    else:
        own = principal.hall
        if own is None:  # an account or terminal made before the first hall was loaded
            only = county.only()
            own = only.code if only else None
        if named is not None and named != own:
            raise ApiError(403, "hall", f"this credential belongs to hall '{own}', not '{named}' / "
                                        "只能访问本中心的数据", "forbidden")
        rt = county.hall(own) if own else None
        if rt is None:
            raise ApiError(403, "hall", "this credential belongs to no hall on this server", "forbidden")
    request.state.hall_rt = rt


def hall_runtime(request: Request):
    """The ``HallRuntime`` this request works on (see the module's docstring)."""
    rt = getattr(request.state, "hall_rt", None)
    if rt is not None:
        return rt
    county = request.app.state.county
    named = named_hall(request)
    if named is not None:
        rt = county.hall(named)
        if rt is None:
            raise ApiError(404, "hall", f"unknown hall '{named}'", "not_found")
    else:
        rt = county.only()
        if rt is None:
            raise ApiError(422, "hall", "this server holds several halls: name one, "
                                        "/api/v1/halls/{hall}/... (GET /api/v1/halls lists them)", "hall_required")
    request.state.hall_rt = rt
    return rt


def visible_halls(county, principal: Principal) -> list[str]:
    """Codes of the halls a credential may see: every hall for county users, else its own."""
    codes = county.codes()
    if principal.county:
        return codes
    own = principal.hall or (codes[0] if len(codes) == 1 else None)
    return [c for c in codes if c == own]
