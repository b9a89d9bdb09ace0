"""The ticket's public token: what the QR on a ticket carries to the visitor's phone page.

A token shows one ticket and can do nothing to it. It is 18 random-looking bytes in
base64url (24 characters): the issue day (2 bytes), 10 random bytes and a 6-byte HMAC of
both under the hall's link key. The hall server and its terminals share that key (terminals
get it with their settings), so a terminal offline makes tokens the server recognises: a
page opened before the ticket synced says "正在同步", while a guessed token (bad MAC) or an
old one gets a plain 404. Neither the ticket id nor the idempotency key can be derived from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import date
from functools import lru_cache

from .random_pool import token_bytes

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{24}$")
_EPOCH = date(2020, 1, 1)


def new_link_key() -> str:
    return secrets.token_hex(32)


@lru_cache(maxsize=16)
def _keyed(key: str):
    """The MAC keyed and fed its label once (a copy per token costs a fraction of keying it again)."""
    return hmac.new(bytes.fromhex(key), b"hall-ticket-link\0", hashlib.sha256)


def _mac(key: str, head: bytes) -> bytes:
    m = _keyed(key).copy()
    m.update(head)
    return m.digest()[:6]


@lru_cache(maxsize=64)
def _day_number(day: str) -> bytes:
    return ((date.fromisoformat(day) - _EPOCH).days % 65536).to_bytes(2, "big")


def make_token(key: str, day: str) -> str:
    head = _day_number(day) + token_bytes(10)
    return base64.urlsafe_b64encode(head + _mac(key, head)).decode()


def token_day(key: str, token: str, today: str) -> str | None:
    """The issue day a genuine token carries (within the last 60 days), else None."""
    if not TOKEN_RE.match(token or ""):
        return None
    raw = base64.urlsafe_b64decode(token)
    head, mac = raw[:12], raw[12:]
    if not hmac.compare_digest(_mac(key, head), mac):
        return None
    n = int.from_bytes(head[:2], "big")
    t = date.fromisoformat(today)
    base = (t - _EPOCH).days
    delta = (base - n) % 65536
    if delta == 65535:  # a terminal clock a day ahead
        delta = -1
    if delta > 60:
        return None
    return date.fromordinal(t.toordinal() - delta).isoformat()


def ticket_url(public_url: str, token: str | None) -> str | None:
    """The phone page of a ticket, or None (no QR) without a public address or token."""
    if not public_url or not token:
        return None
    return f"{public_url.rstrip('/')}/q/{token}"


def guide_url(public_url: str, guide_id: str) -> str | None:
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/g/{guide_id}"


_URL_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")


def check_public_url(value: str) -> str | None:
    """None when ``value`` is '' or an http(s) address phones can open, else what is wrong."""
    if value == "" or _URL_RE.match(value):
        return None
    return ("must be the address phones use to reach the hall server, e.g. http://192.168.1.10:8080 "
            "or https://hall.example.gov.cn (no query, no spaces)")
