"""systemd notifications (sd_notify) without python-systemd: READY=1 and watchdog pings.

Under deploy/kiosk-terminal.service the app runs as a child of the cage compositor,
so it is not the unit's main process. The unit therefore sets NotifyAccess=all, and
this module ignores $WATCHDOG_PID (systemd sets it to cage's PID, and honouring it
would switch the pings off and get the app killed every WatchdogSec).

Outside systemd ($NOTIFY_SOCKET unset) every call is a harmless no-op returning False.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Send ``state`` (e.g. "READY=1", "STATUS=...") to systemd; True when it was sent."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False
    if address[0] == "@":
        address = "\0" + address[1:]  # Linux abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode("utf-8"), address)
        return True
    except OSError as exc:
        log.warning("sd_notify %r failed: %s", state, exc)
        return False


def ready(status: str = "") -> bool:
    """Tell systemd the app is up (Type=notify waits for this)."""
    return notify("READY=1" + (f"\nSTATUS={status}" if status else ""))


def ping() -> bool:
    """Feed the watchdog; call every watchdog_interval_s() from the UI loop's clock."""
    return notify("WATCHDOG=1")


def stopping() -> bool:
    return notify("STOPPING=1")


def watchdog_interval_s() -> float | None:
    """How often to ping: half of $WATCHDOG_USEC, or None when no watchdog is set."""
    try:
        usec = int(os.environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2 / 1_000_000 if usec > 0 else None
