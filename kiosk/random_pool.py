"""Random bytes from the operating system, read a page at a time.

Every ticket takes a random id and a random public token (``kiosk.queue``, ``kiosk.public_link``). Each
``os.urandom`` call is a system call that also lets go of the GIL, so on the hall server's event loop it
hands the interpreter to another thread and waits to get it back. The same bytes read ``PAGE`` at a time
and handed out once each are just as unpredictable. A forked child starts with an empty page (it must
not hand out its parent's bytes).
"""

from __future__ import annotations

import os
import threading

PAGE = 4096

_lock = threading.Lock()
_page = b""
_at = 0


def _forget() -> None:
    global _page, _at
    _page, _at = b"", 0


if hasattr(os, "register_at_fork"):  # (no fork, no hook: Windows)
    os.register_at_fork(after_in_child=_forget)


def token_bytes(n: int) -> bytes:
    """``n`` random bytes (like ``secrets.token_bytes``)."""
    global _page, _at
    if n > PAGE // 4:
        return os.urandom(n)
    with _lock:
        if _at + n > len(_page):
            _page, _at = os.urandom(PAGE), 0
        out = _page[_at:_at + n]
        _at += n
    return out


def uuid_hex() -> str:
    """A random (version 4) UUID's 32 hex digits (like ``uuid.uuid4().hex``)."""
    b = bytearray(token_bytes(16))
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    return b.hex()
