"""Terminal enrollment, heartbeat (health) and the supervisor's terminal list."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Path, Request

from .halls import hall_runtime
from . import accounts, sync_store
from .audit import Act, address_of, audited, record
from .auth import STAFF, SUPERVISORS, TERMINAL, requires
from .models import (EnrollIn, EnrollmentCodeIn, EnrollmentCodeOut, EnrollOut, HeartbeatIn, HeartbeatOut, HelpOut,
                     TerminalOut)

router = APIRouter(prefix="/api/v1/terminals", tags=["terminals"])

ONLINE_WITHIN_S = 120  # a terminal that has not called in for two minutes shows as offline


@router.post("/enroll", response_model=EnrollOut, status_code=201,
             summary="Trade a one-time enrollment code for the terminal's own token")
def enroll(body: EnrollIn, request: Request) -> EnrollOut:
    db = request.app.state.county.db  # the code names the hall
    terminal_id, token = accounts.enroll(db, body.code, body.name, request.client.host if request.client else None,
                                         body.mode, body.window)
    who = accounts.resolve(db, token)
    return EnrollOut(token=token, terminal_id=terminal_id, expires_at=time.time() + accounts.TERMINAL_TTL_S,
                     mode=who.mode, window=who.window, name=who.display_name, hall=who.hall)


@router.post("/heartbeat", response_model=HeartbeatOut, summary="A terminal reports its health")
def heartbeat(body: HeartbeatIn, request: Request, principal=Depends(requires(*TERMINAL))) -> HeartbeatOut:
    rt = hall_runtime(request)
    health = body.model_dump()
    extra = {k: health.pop(k) for k in ("crash_loop", "crashes_10min", "last_error", "last_crash_at", "online",
                                        "idcard")}
    extra["reported_online"] = extra.pop("online")
    expires = accounts.heartbeat(rt.db, principal.name, request.client.host if request.client else None, **health)
    sync_store.save_health(rt.db, principal.name, extra)
    rt.queue()  # picks up a hall change, so hall_version below is current
    return HeartbeatOut(ok=True, server_time=time.time(), token_expires_at=expires, hall_version=rt.version)


@router.post("/help", response_model=HelpOut, status_code=201,
             summary="呼叫工作人员: a visitor at this terminal asks for help (staff see it live)")
def ask_for_help(request: Request, principal=Depends(requires(*TERMINAL))) -> HelpOut:
    """Terminals only. A press within a minute of the last is the same request (no new alert).
    Staff streams get ``help_requested``; the audit log keeps the request."""
    rt = hall_runtime(request)
    asked, new = rt.help.ask(principal.name, principal.display_name or principal.name,
                                            principal.mode, principal.window)
    if new:
        record(rt.db, principal.name, principal.kind, principal.role, "terminal.help",
               f"terminal {principal.display_name or principal.name}", address=address_of(request), status=201,
               hall=rt.code)
        rt.hub.publish("help_requested", {"help": asked})
    return HelpOut(**asked, repeated=not new)


@router.get("/help", response_model=list[HelpOut], summary="Open help requests, oldest first")
def open_help(request: Request, principal=Depends(requires(*STAFF))) -> list[HelpOut]:
    return [HelpOut(**r) for r in hall_runtime(request).help.open_requests()]


@router.post("/help/{request_id}/dismiss", status_code=204, summary="A staff member has seen to a help request")
def dismiss_help(request: Request, request_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
                 act: Act = audited("terminal.help_dismiss", *STAFF)) -> None:
    done = hall_runtime(request).help.dismiss(request_id)
    act.note(f"terminal {done['terminal'] if done else '(already dismissed)'}", request=request_id)
    if done:
        hall_runtime(request).hub.publish("help_dismissed", {"help": done, "by": act.principal.display_name
                                                                 or act.principal.name})


@router.get("", response_model=list[TerminalOut], summary="Terminals and their health")
def list_terminals(request: Request, principal=Depends(requires(*SUPERVISORS))) -> list[TerminalOut]:
    now = time.time()
    rt = hall_runtime(request)
    db = rt.db
    extra = sync_store.health_by_terminal(db)
    return [TerminalOut(online=not t["revoked"] and (t["last_seen"] or 0) > now - ONLINE_WITHIN_S,
                        **{k: v for k, v in {**t, **extra.get(t["id"], {})}.items() if k in TerminalOut.model_fields
                           and k != "online"})
            for t in accounts.list_terminals(db, rt.code)]


@router.post("/enrollment-codes", response_model=EnrollmentCodeOut, status_code=201,
             summary="A one-time enrollment code, valid 24 h")
def new_code(body: EnrollmentCodeIn, request: Request,
             act: Act = audited("terminal.enrollment_code", *SUPERVISORS)) -> EnrollmentCodeOut:
    act.note(f"terminal {body.name or '(any name)'}", mode=body.mode, window=body.window)
    rt = hall_runtime(request)
    code, expires = accounts.enrollment_code(rt.db, body.name, body.mode, body.window, hall=rt.code)
    return EnrollmentCodeOut(code=code, expires_at=expires, name=body.name, mode=body.mode, window=body.window)


@router.post("/{terminal_id}/revoke", status_code=204, summary="Withdraw a terminal's token")
def revoke(request: Request, terminal_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
           act: Act = audited("terminal.revoke", *SUPERVISORS)) -> None:
    act.note(f"terminal {terminal_id}")
    rt = hall_runtime(request)
    accounts.revoke_terminal(rt.db, terminal_id, rt.code)
    request.app.state.tokens.forget()
