"""Every route's hall rule: who may call it, and for which hall (issue 13).

- ``none``: not about one hall (sign-in, the hall list, the county overview,
  enrollment, whose code names the hall);
- ``public``: no credential needed; the hall named in the path, or the only hall;
  shows what a hall's TV or a visitor's phone shows, nothing more (a credential,
  if sent, still binds its own hall: naming another is refused);
- ``terminal``: an enrolled terminal, in its own hall;
- ``staff``: staff of the hall (or a county user naming the hall);
- ``hall``: a terminal or staff of the hall (or a county user naming it).

A route missing here fails ``tests/test_server_halls.py``, which also calls
each hall route with a credential of another hall; the table is published in
the OpenAPI document as ``x-hall-rule`` on every operation.
"""

from __future__ import annotations

HALL_RULES = ("none", "public", "terminal", "staff", "hall")

RULES: dict[str, str] = {
    "GET /healthz": "public",
    "GET /livez": "none",
    "POST /api/v1/auth/login": "none",
    "POST /api/v1/auth/logout": "none",
    "GET /api/v1/auth/me": "none",
    "GET /api/v1/halls": "none",
    "GET /api/v1/county": "none",
    "POST /api/v1/terminals/enroll": "none",
    "GET /api/v1/audit": "staff",
    "GET /api/v1/audit.csv": "staff",
    "POST /api/v1/terminals/heartbeat": "terminal",
    "GET /api/v1/terminals/help": "staff",
    "POST /api/v1/terminals/help": "terminal",
    "POST /api/v1/terminals/help/{request_id}/dismiss": "staff",
    "GET /api/v1/terminals": "staff",
    "POST /api/v1/terminals/enrollment-codes": "staff",
    "POST /api/v1/terminals/{terminal_id}/revoke": "staff",
    "GET /api/v1/services": "hall",
    "POST /api/v1/services": "staff",
    "POST /api/v1/tickets": "hall",
    "GET /api/v1/tickets": "hall",
    "GET /api/v1/tickets/{ticket_id}": "public",
    "POST /api/v1/tickets/{ticket_id}/cancel": "hall",
    "GET /api/v1/display": "public",
    "GET /api/v1/windows": "hall",
    "POST /api/v1/windows": "staff",
    "GET /api/v1/windows/{number}/queue": "staff",
    "POST /api/v1/windows/{number}/call-next": "staff",
    "POST /api/v1/windows/{number}/call": "staff",
    "POST /api/v1/windows/{number}/recall": "staff",
    "POST /api/v1/windows/{number}/no-show": "staff",
    "POST /api/v1/windows/{number}/start": "staff",
    "POST /api/v1/windows/{number}/finish": "staff",
    "POST /api/v1/windows/{number}/transfer": "staff",
    "POST /api/v1/windows/{number}/pause": "staff",
    "POST /api/v1/windows/{number}/resume": "staff",
    "PUT /api/v1/services/{code}": "staff",
    "PUT /api/v1/windows/{number}": "staff",
    "GET /api/v1/hall": "staff",
    "PUT /api/v1/hall/public-url": "staff",
    "GET /api/v1/users": "staff",
    "POST /api/v1/users": "staff",
    "PATCH /api/v1/users/{username}": "staff",
    "GET /api/v1/stats": "staff",
    "GET /api/v1/stats.csv": "staff",
    "GET /api/v1/events": "public",
    "GET /api/v1/rating-reasons": "hall",
    "POST /api/v1/ratings": "hall",
    "GET /api/v1/ratings": "staff",
    "GET /api/v1/stats/ratings": "staff",
    "GET /api/v1/stats/ratings.csv": "staff",
    "GET /api/v1/followups": "staff",
    "POST /api/v1/followups/{followup_id}/rectify": "staff",
    "POST /api/v1/followups/{followup_id}/callback": "staff",
    "POST /api/v1/followups/{followup_id}/verify": "staff",
    "GET /api/v1/ratings/export": "staff",
    "GET /api/v1/reports/period": "staff",
    "GET /api/v1/reports/period.csv": "staff",
    "GET /api/v1/reports/daily": "staff",
    "GET /api/v1/reports/daily.csv": "staff",
    "POST /api/v1/reports/daily/freeze": "staff",
    "GET /api/v1/reports/daily/halls": "staff",
    "GET /api/v1/rating-settings": "staff",
    "PUT /api/v1/rating-settings": "staff",
    "GET /api/v1/windows/{number}/duty": "hall",
    "GET /api/v1/users/{username}/photo": "hall",
    "PUT /api/v1/users/{username}/photo": "staff",
    "DELETE /api/v1/users/{username}/photo": "staff",
    "GET /api/v1/sync/terminal": "terminal",
    "GET /api/v1/sync/hall": "hall",
    "GET /api/v1/sync/guides": "hall",
    "PUT /api/v1/sync/guides": "staff",
    "PUT /api/v1/sync/terminals/{terminal_id}/settings": "staff",
    "POST /api/v1/sync/batch": "terminal",
    "GET /api/v1/appointments/today": "hall",
    "POST /api/v1/appointments/checkin": "hall",
    "POST /api/v1/appointments/checkins": "hall",
    "GET /api/v1/appointments/settings": "staff",
    "PUT /api/v1/appointments/settings": "staff",
    "GET /api/v1/appointments/slots": "hall",
    "GET /api/v1/appointments": "staff",
    "POST /api/v1/appointments": "staff",
    "GET /api/v1/appointments/stats": "staff",
    "POST /api/v1/appointments/import": "staff",
    "GET /api/v1/appointments/{appointment_id}": "staff",
    "PATCH /api/v1/appointments/{appointment_id}": "staff",
    "POST /api/v1/appointments/{appointment_id}/cancel": "staff",
    "GET /api/v1/public/tickets/{token}": "public",
    # linked halls (a township's own hall server): the code, then the hall's push token, name the hall;
    # the list and reports are county-wide (county users only: server/api_linked_halls.py::READERS)
    "POST /api/v1/county/link": "none",
    "POST /api/v1/county/batch": "none",
    "GET /api/v1/county/linked-halls": "none",
    "GET /api/v1/county/linked-halls/{hall}/reports/{day}": "none",
}

_HALL_LESS = tuple(k.split(" ", 1)[1] for k, v in RULES.items() if v == "none")


def hall_less(path: str) -> bool:
    """True for a path that names no hall (``/api/v1/halls/X/auth/login`` is not a route)."""
    return path in _HALL_LESS or path.startswith("/api/v1/auth/")


def rule(method: str, path: str) -> str | None:
    return RULES.get(f"{method.upper()} {path}")


def document(spec: dict) -> dict:
    """Add ``x-hall-rule`` to each operation and the ``/api/v1/halls/{hall}/...`` twin of each hall route."""
    hall_param = {"name": "hall", "in": "path", "required": True, "schema": {"type": "string"},
                  "description": "the hall's code (`[hall] code` of its hall file); GET /api/v1/halls lists them"}
    twins = {}
    cookie = _cookie_scheme(spec)
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            if not isinstance(op, dict):
                continue
            if {"HTTPBearer": []} in op.get("security", ()):  # one dependency takes both (server/auth.py)
                op["security"] = [*op["security"], {cookie: []}]
            r = rule(method, path)
            op["x-hall-rule"] = r or "undeclared"
            if r in (None, "none") or not path.startswith("/api/v1/"):
                continue
            twin = dict(op, operationId=op.get("operationId", "") + "_in_hall",
                        parameters=[hall_param, *op.get("parameters", [])],
                        summary=f"{op.get('summary', '')} (hall named in the path)")
            twins.setdefault("/api/v1/halls/{hall}/" + path[len("/api/v1/"):], {})[method] = twin
    spec["paths"].update(twins)
    return spec


def _cookie_scheme(spec: dict) -> str:
    """The staff cookie's security scheme (``server.auth.COOKIE_SCHEME``), added to the components; its name."""
    from fastapi.encoders import jsonable_encoder

    from .auth import COOKIE_SCHEME

    schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[COOKIE_SCHEME.scheme_name] = jsonable_encoder(COOKIE_SCHEME.model, by_alias=True, exclude_none=True)
    return COOKIE_SCHEME.scheme_name
