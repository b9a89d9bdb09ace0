"""The audit trail: every console and admin action, who did it, when and from where.

A route declares its action and who may call it in one place::

    @router.post("/{number}/call-next")
    def call_next(number: Number, request: Request, act: Act = audited("window.call_next", *STAFF, window="number")):
        ...
        act.note(ticket=ticket.number)   # optional: what it changed

``audited`` admits only ``roles`` (401 without a token, 403 otherwise),
and with ``window=`` it also checks that window staff act on their own
window (``Principal.may_act_on``; supervisors and admins act on any). Staff
calls are written to ``audit_log`` when the route returns (``ok``), refuses
(``refused``, e.g. 409 nothing to call) or is forbidden (``denied``); a
terminal's calls are not (they are visitors' actions, counted elsewhere).
Details never hold a password, PIN or rating level.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from kiosk.storage.db import reader

from .accounts import Principal
from .auth import Credential, admitted, principal_of
from .errors import ApiError
from .security_schema import audit_log

log = logging.getLogger(__name__)

SECRET_FIELDS = {"password", "pin", "token", "code", "level", "phone"}


class Act:
    """One request's audit entry; the route may add its target and details."""

    def __init__(self, principal: Principal, action: str, address: str, target: str = ""):
        self.principal, self.action, self.address, self.target = principal, action, address, target
        self.detail: dict[str, Any] = {}

    def note(self, target: str | None = None, **detail: Any) -> None:
        if target is not None:
            self.target = target
        self.detail.update({k: v for k, v in detail.items() if k not in SECRET_FIELDS})


def address_of(request: Request) -> str:
    return request.client.host if request.client else ""


def record(engine: sa.Engine, actor: str, actor_kind: str, role: str, action: str, target: str = "",
           detail: dict | None = None, outcome: str = "ok", status: int = 200, address: str = "",
           hall: str | None = None) -> None:
    """One audit line; ``hall``: the hall acted on (None: county-wide, e.g. a sign-in)."""
    try:
        with engine.begin() as conn:
            conn.execute(audit_log.insert().values(
                at=time.time(), actor=actor[:64], actor_kind=actor_kind, role=role, action=action[:64],
                target=target[:200], detail=json.dumps(detail or {}, ensure_ascii=False, default=str)[:4000],
                outcome=outcome, status=status, address=address[:64], hall=hall))
    except sa.exc.SQLAlchemyError as exc:  # the action stands; a missing line is logged loudly
        log.error("audit: could not record %s by %s: %s", action, actor, exc)


async def _write(request: Request, act: Act, outcome: str, status: int) -> None:
    p = act.principal
    if p.kind != "staff":
        return
    rt = getattr(request.state, "hall_rt", None)
    await run_in_threadpool(record, request.app.state.county.db, p.name, p.kind, p.role, act.action, act.target,
                            act.detail, outcome, status, act.address, rt.code if rt is not None else p.hall)


ACT_KEY = "kiosk.audit"  # the scope key of the staff calls waiting for their line (``AuditTrail``)


class Audited(Credential):
    """The dependency of an audited route (``audited``): who may call it, and the ``Act`` it records.

    One dependency (a ``Credential``: it reads the credential itself). It runs on the event loop (a
    terminal's call, e.g. issuing a ticket, costs no thread hop for it) and is a plain coroutine, not a
    generator: a staff member's ``ok`` or ``refused`` line is written by ``AuditTrail`` when the response
    starts, from a worker thread (a denial at once, here).
    """

    def __init__(self, action: str, roles: tuple[str, ...], window: str | None):
        super().__init__()
        self.__audit_action__, self.__roles__, self.window = action, roles, window

    async def __call__(self, request: Request) -> Act:  # type: ignore[override]
        action, roles, window = self.__audit_action__, self.__roles__, self.window
        principal = await principal_of(request, *self.sent(request))
        if principal is None:
            raise ApiError(401, "Authorization", "sign in, or send Authorization: Bearer TOKEN", "unauthorized")
        act = Act(principal, action, address_of(request))
        if not admitted(principal, roles):
            await _write(request, act, "denied", 403)
            raise ApiError(403, "Authorization", f"this needs one of the roles: {', '.join(roles)}", "forbidden")
        if window is not None:
            raw = request.path_params.get(window, "")
            number = int(raw) if str(raw).isdigit() and len(str(raw)) <= 3 else None  # else: the route's 422
            act.target = f"window {raw}"
            if number is not None and principal.kind == "staff" and not principal.may_act_on(number):
                await _write(request, act, "denied", 403)
                mine = f"your window is {principal.window}" if principal.window else "no window is assigned to you"
                raise ApiError(403, window, f"window staff act on their own window ({mine}); "
                                            "a supervisor can act on any / 只能操作本人窗口", "forbidden")
        if principal.kind == "staff":
            pending = request.scope.get(ACT_KEY)
            if pending is None:
                raise RuntimeError("audited routes need the AuditTrail middleware (server/app.py)")
            pending.append((request, act))
        return act


def audited(action: str, *roles: str, window: str | None = None):
    """``Depends`` on the ``Audited`` dependency: ``roles`` may call the route, ``action`` is its audit line's
    (with ``window=``, the path parameter naming the window that window staff may act on only if theirs)."""
    return Depends(Audited(action, roles, window))


class AuditTrail:
    """ASGI middleware writing the line of each staff call an ``audited`` route admitted, as its response
    starts (before the client has it): ``ok`` below status 400, ``refused`` from 400 on (a refusal the
    route raised, e.g. 409 nothing to call, or its input's 422), ``refused`` 500 when the route failed."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        pending: list[tuple[Request, Act]] = []
        scope[ACT_KEY] = pending  # shared by the scope copies the layers inside make

        async def recorded_send(message):
            if pending and message["type"] == "http.response.start":
                await _write_all(pending, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recorded_send)
        except Exception:
            if pending:
                await _write_all(pending, 500)
            raise


async def _write_all(pending: list[tuple[Request, Act]], status: int) -> None:
    while pending:
        request, act = pending.pop(0)
        await _write(request, act, "ok" if status < 400 else "refused", status)


# ------------------------------------------------------------------ reading

COLUMNS = ("at", "actor", "role", "action", "target", "outcome", "status", "address", "detail")


def entries(engine: sa.Engine, since: float, until: float, actor: str | None = None, action: str | None = None,
            limit: int = 1000, hall: str | None = None) -> list[dict]:
    """Audit lines, newest first; with ``hall``, that hall's lines only."""
    q = (sa.select(audit_log).where(audit_log.c.at >= since, audit_log.c.at < until,
                                    *([audit_log.c.hall == hall] if hall else []))
         .order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit))
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if action:
        q = q.where(audit_log.c.action.startswith(action, autoescape=True))
    with reader(engine) as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        try:
            r["detail"] = json.loads(r["detail"] or "{}")
        except ValueError:
            r["detail"] = {"raw": r["detail"]}
    return rows


def to_csv(rows: list[dict], tz) -> str:
    from datetime import datetime

    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 with a BOM
    w = csv.writer(out)
    w.writerow(["时间 time", "人员 actor", "角色 role", "操作 action", "对象 target", "结果 outcome", "HTTP",
                "地址 address", "详情 detail"])
    for r in rows:
        w.writerow([datetime.fromtimestamp(r["at"], tz).strftime("%Y-%m-%d %H:%M:%S"), r["actor"], r["role"],
                    r["action"], r["target"], r["outcome"], r["status"], r["address"],
                    json.dumps(r["detail"], ensure_ascii=False)])
    return out.getvalue()
