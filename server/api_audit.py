"""The audit trail for supervisors: ``GET /api/v1/audit`` (JSON) and ``/api/v1/audit.csv``."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from .halls import hall_runtime
from . import audit
from .auth import SUPERVISORS, requires
from .errors import ApiError
from .models import Day

router = APIRouter(prefix="/api/v1", tags=["audit"])
supervisor = requires(*SUPERVISORS)


class AuditOut(BaseModel):
    id: int
    at: float
    actor: str
    actor_kind: str
    role: str
    action: str
    target: str
    outcome: str
    status: int
    address: str
    detail: dict


Actor = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="username")]
Action = Annotated[str | None, Query(pattern=r"^[a-z_.]{1,64}$", description="action or its start, e.g. window.")]


def _span(request: Request, date_from: str | None, date_to: str | None) -> tuple[float, float, ZoneInfo, str]:
    queue = hall_runtime(request).queue()
    tz = ZoneInfo(queue.hall.timezone)
    try:
        end = Date.fromisoformat(date_to) if date_to else Date.fromisoformat(queue.today())
        start = Date.fromisoformat(date_from) if date_from else end
    except ValueError:
        raise ApiError(422, "from" if date_from else "to", "not a calendar date (YYYY-MM-DD)", "invalid_input") \
            from None
    if start > end:
        raise ApiError(422, "from", "must not be after 'to'", "invalid_input")
    since = datetime.combine(start, time.min, tz).timestamp()
    until = datetime.combine(end + timedelta(days=1), time.min, tz).timestamp()
    return since, until, tz, f"{start}_{end}"


@router.get("/audit", response_model=list[AuditOut], summary="Who did what, when, from where (newest first)")
def audit_entries(request: Request, principal=Depends(supervisor),
                  date_from: Annotated[Day | None, Query(alias="from")] = None,
                  date_to: Annotated[Day | None, Query(alias="to")] = None,
                  actor: Actor = None, action: Action = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[AuditOut]:
    since, until, _, _ = _span(request, date_from, date_to)
    rt = hall_runtime(request)
    return [AuditOut(**r) for r in audit.entries(rt.db, since, until, actor, action, limit, hall=rt.code)]


@router.get("/audit.csv", response_class=Response, summary="The audit trail as CSV (UTF-8 with BOM, opens in Excel)",
            responses={200: {"content": {"text/csv": {}}}})
def audit_csv(request: Request, principal=Depends(supervisor),
              date_from: Annotated[Day | None, Query(alias="from")] = None,
              date_to: Annotated[Day | None, Query(alias="to")] = None,
              actor: Actor = None, action: Action = None) -> Response:
    since, until, tz, span = _span(request, date_from, date_to)
    rt = hall_runtime(request)
    rows = audit.entries(rt.db, since, until, actor, action, 100_000, hall=rt.code)
    return Response(audit.to_csv(rows, tz), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="hall-audit-{span}.csv"'})
