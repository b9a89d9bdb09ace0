"""What a visitor's phone opens, with no sign-in: the ticket page ``/q/{token}`` and the guide
page ``/g/{guide id}`` (the QR codes on the ticket and the 一次性告知单), and the pages' font.

A token only shows its ticket: number, service, status, people ahead, the windows now calling.
Nothing here changes a ticket, and nothing names another visitor or a member of staff.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kiosk.domain import OPEN_STATUSES, TicketStatus
from kiosk.public_link import TOKEN_RE, token_day

from .halls import hall_runtime, named_hall
from . import public_html, public_links
from .pages import SECURITY_HEADERS

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/public", tags=["public"])

STATUS_TEXT = {"waiting": "等候中", "called": "请到 {w} 号窗口", "serving": "正在办理", "done": "已办结",
               "no_show": "已过号", "cancelled": "已取消", "transferred": "已转办", "syncing": "正在同步", "expired": "已失效"}
HEADERS = dict(SECURITY_HEADERS, **{"Cache-Control": "no-store"})


def ticket_state(rt, token: str) -> dict | None:
    """The page's data for a token; ``{"state": "syncing"}`` for an offline ticket not here yet; None: 404."""
    if not TOKEN_RE.match(token):
        return None
    queue = rt.queue()
    hall = queue.hall
    t = public_links.ticket_by_token(rt.db, hall.code, token)
    if t is None:
        if token_day(rt.link_key, token, queue.today()) is None:
            return None
        return {"state": "syncing", "hall": hall.name, "status_text": STATUS_TEXT["syncing"]}
    svc = hall.service(t.service)
    ahead = wait = 0
    if t.status is TicketStatus.WAITING and svc is not None and t.day == queue.today():
        ahead = queue.people_ahead(t)
        wait = queue.estimate_wait_s(svc, ahead)
    calling = []
    for w in hall.windows_for(t.service):
        cur = queue.current(w.number)
        if cur is not None and cur.status in (TicketStatus.CALLED, TicketStatus.SERVING):
            calling.append({"window": w.number, "number": cur.number})
    window = t.window if t.status in (TicketStatus.CALLED, TicketStatus.SERVING) else None
    state = t.status.value
    if t.day != queue.today() and t.status in OPEN_STATUSES:
        state, window, calling = "expired", None, []  # numbers are valid on their day only
    return {"state": state, "hall": hall.name, "number": t.number, "service": t.service,
            "service_name": svc.name if svc else t.service, "day": t.day, "window": window,
            "status_text": STATUS_TEXT.get(state, state).format(w=window),
            "people_ahead": ahead, "estimated_wait_s": wait,
            "windows": [w.number for w in hall.windows_for(t.service)], "calling": calling,
            "today": t.day == queue.today()}


def _token_hall(request: Request, token: str):
    """The hall whose ticket (or offline ticket still syncing) a token names; a one-hall server's hall."""
    county = request.app.state.county
    if named_hall(request) is not None or not TOKEN_RE.match(token):
        return hall_runtime(request) if named_hall(request) is not None else (county.only() or county.first)
    only = county.only()
    if only is not None:
        return only
    code = public_links.hall_of_token(county.db, token)
    if code is not None:
        return county.hall(code)
    for code in county.codes():  # not here yet: the hall whose key made it
        rt = county.hall(code)
        if token_day(rt.link_key, token, rt.queue().today()) is not None:
            return rt
    return county.first  # its key did not make it either: 404


def _default_hall(request: Request):
    """Pages without a hall in their address (guides, fonts): the named hall, the only one, or the first."""
    county = request.app.state.county
    return hall_runtime(request) if named_hall(request) is not None else (county.only() or county.first)


def not_found() -> HTMLResponse:
    return HTMLResponse(public_html.not_found(), status_code=404, headers=HEADERS)


@router.get("/q/{token}")
def ticket_page(token: str, request: Request) -> HTMLResponse:
    state = ticket_state(_token_hall(request, token), token)
    if state is None:
        return not_found()
    return HTMLResponse(public_html.ticket_page(token, state), headers=HEADERS)


@api.get("/tickets/{token}", summary="A ticket's phone page data, by the public token on its QR (no sign-in)")
def ticket_json(token: str, request: Request) -> JSONResponse:
    state = ticket_state(_token_hall(request, token), token)
    if state is None:
        return JSONResponse({"error": "not_found", "message": "没有这个号码", "field": "token"}, status_code=404,
                            headers={"Cache-Control": "no-store"})
    return JSONResponse(state, headers={"Cache-Control": "no-store"})


# ------------------------------------------------------------------ guides

_content_cache: dict[str, object] = {}
_content_lock = threading.Lock()


def guide_content(rt):
    """The validated guide content terminals pull (parsed once per digest)."""
    from kiosk.wire.guidefiles import validate_files

    digest, files = rt.guide_files()
    with _content_lock:
        found = _content_cache.get(digest)
    if found is None:
        found, errors = validate_files(files, None)
        if found is None:
            raise RuntimeError(f"stored guide content is invalid: {errors[0]}")
        with _content_lock:
            _content_cache.clear()
            _content_cache[digest] = found
    return found


@router.get("/g/{guide_id}")
def guide_page(guide_id: str, request: Request) -> HTMLResponse:
    rt = _default_hall(request)
    content = guide_content(rt)
    guide = next((g for g in content.guides if g.id == guide_id), None)
    if guide is None:
        return not_found()
    hall = rt.queue().hall
    category = next((c.name for c in content.categories if c.code == guide.category), "")
    return HTMLResponse(public_html.guide_page(guide, hall, category),
                        headers=dict(SECURITY_HEADERS, **{"Cache-Control": "no-cache"}))


# ------------------------------------------------------------------ font

@router.get("/fonts/hall.css")
async def font_css(request: Request) -> Response:
    rt = _default_hall(request)
    await run_in_threadpool(rt.refresh_webfont)
    built = await run_in_threadpool(rt.webfont.current, 2.0)
    if built is None:  # the first cut is still under way (about 30 s once per content): never hold a page up
        return Response("/* the font is being prepared: the pages use the visitor's own fonts meanwhile */\n",
                        media_type="text/css", headers={"Cache-Control": "no-store"})
    tag = f'"{built.etag}"'
    headers = {"ETag": tag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(built.css_gz, media_type="text/css", headers=dict(headers, **{"Content-Encoding": "gzip"}))
    return Response(built.css, media_type="text/css", headers=headers)


@router.get("/fonts/{name}")
def font_file(name: str, request: Request) -> Response:
    path = _default_hall(request).webfont.file(name)
    if path is None:
        return Response(status_code=404)
    # the name carries the hash of its characters: it never changes
    return FileResponse(path, media_type="font/woff2", headers={"Cache-Control": "public, max-age=31536000, immutable"})
