"""One error shape for the whole API, and the mapping of every refusal to a 4xx.

Body: ``{"error": code, "message": text, "field": name, "errors": [...]}``.
``field`` names the input at fault (``service``, ``limit``, ``body``), so a
terminal can show it and a person can fix it.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk.queue import QueueError

from .accounts import AccountError
from .hall_store import HallEditError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, field: str, message: str, code: str = "refused", headers: dict | None = None):
        super().__init__(message)
        self.status, self.field, self.message, self.code = status, field, message, code
        self.headers = headers


# queue refusal code -> (HTTP status, field at fault)
_QUEUE_STATUS = {
    "unknown_service": (422, "service"),
    "unknown_priority": (422, "priority"),
    "key_reserved": (422, "key"),
    "no_green_channel": (422, "priority"),
    "bad_transfer": (422, "service"),
    "unknown_window": (404, "number"),
    "not_found": (404, "number"),
    "sold_out": (409, "service"),
    "outside_hours": (409, "service"),
    "closed_day": (409, "service"),
    "disabled": (409, "service"),
    "window_paused": (409, "window"),
    "no_current_ticket": (409, "window"),
    "conflict": (409, "window"),
    "busy": (503, "window"),
    "number_taken": (409, "service"),
}


def body(status: int, code: str, message: str, field: str | None = None, errors: list | None = None,
         headers: dict | None = None) -> JSONResponse:
    content = {"error": code, "message": message, "field": field}
    if errors is not None:
        content["errors"] = errors
    return JSONResponse(content, status_code=status, headers=headers)


def _field_name(loc: tuple) -> tuple[str, str]:
    where = str(loc[0]) if loc else "body"
    rest = [str(p) for p in loc[1:]]
    return where, ".".join(rest) if rest else where


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors, status = [], 422
        for e in exc.errors():
            where, name = _field_name(tuple(e.get("loc", ())))
            message = e.get("msg", "invalid")
            if e.get("type") == "value_error" and (e.get("ctx") or {}).get("error") is not None:
                message = str(e["ctx"]["error"])  # a model's own words (kiosk/hall_model.py), without "Value error, "
            if e.get("type") == "json_invalid":
                status, name, message = 400, "body", "the body is not valid JSON"
            elif e.get("type") == "missing" and name == "body":
                message = "a JSON body is required"
            elif e.get("type") == "model_attributes_type":
                message = "must be a JSON object"
            errors.append({"field": name, "in": where, "message": message})
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return body(status, "invalid_input", summary, errors[0]["field"] if errors else None, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 413: "too_large"}.get(
            exc.status_code, "refused")
        if exc.status_code == 413:
            return body(413, code, str(exc.detail), "body", headers={"Connection": "close"})
        return body(exc.status_code, code, str(exc.detail), None, headers=getattr(exc, "headers", None))

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.headers:
            headers = {**(headers or {}), **exc.headers}
        return body(exc.status, exc.code, exc.message, exc.field, headers=headers)

    @app.exception_handler(QueueError)
    async def _queue(request: Request, exc: QueueError):
        status, field = _QUEUE_STATUS.get(exc.code, (409, None))
        return body(status, exc.code, str(exc), field)

    @app.exception_handler(AccountError)
    async def _account(request: Request, exc: AccountError):
        return body(exc.status, "refused", str(exc), exc.field)

    @app.exception_handler(HallEditError)
    async def _hall(request: Request, exc: HallEditError):
        return body(exc.status, "refused", str(exc), exc.field)

    @app.exception_handler(IntegrityError)
    async def _clash(request: Request, exc: IntegrityError):
        # the last line of defence: a uniqueness clash the code did not foresee is a conflict, not a crash
        log.error("integrity error on %s %s: %s", request.method, request.url.path, exc)
        return body(409, "conflict", "the request clashes with data already stored (e.g. a number already "
                                     "taken); nothing was changed", None)

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError):
        log.error("database error on %s %s: %s", request.method, request.url.path, exc)
        return body(503, "database_unavailable", "the database is not answering, try again", None)
