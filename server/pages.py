"""The browser pages: plain HTML shells; their scripts talk to the JSON API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from .chime import chime_wav

router = APIRouter(include_in_schema=False)
PAGES = Path(__file__).parent / "pages"

# Everything the pages need is served from here; no CDN, no inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "media-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


def _page(name: str) -> FileResponse:
    return FileResponse(PAGES / f"{name}.html", media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/login", status_code=303)


@router.get("/login")
def login_page() -> FileResponse:
    return _page("login")


@router.get("/console")
def console_page() -> FileResponse:
    return _page("console")


@router.get("/display")
def display_page() -> FileResponse:
    return _page("display")


@router.get("/admin")
def admin_page() -> FileResponse:
    return _page("admin")


@router.get("/ratings")
def ratings_page() -> FileResponse:
    return _page("ratings")


@router.get("/appointments")
def appointments_page() -> FileResponse:
    return _page("appointments")


@router.get("/followups")
def followups_page() -> FileResponse:
    return _page("followups")


@router.get("/reports")
def reports_page() -> FileResponse:
    return _page("reports")


@router.get("/county")
def county_page() -> FileResponse:
    return _page("county")


@router.get("/audit")
def audit_page() -> FileResponse:
    return _page("audit")


@router.get("/static/chime.wav")
def chime() -> Response:
    return Response(chime_wav(), media_type="audio/wav", headers={"Cache-Control": "max-age=86400"})
