"""Sign-in throttling that slows a guesser, not the account's owner.

Kept in the database (``login_throttle``, ``known_devices``), so a restart
gives no fresh tries and every server process sees the same counts.

- Per account: the first ``USER_FREE`` wrong passwords cost nothing; after
  that each try must wait 1, 2, 4 ... seconds, at most ``USER_MAX_DELAY``. A
  guesser gets about one try a minute; the owner waits at most a minute, and
  not at all from a *known device* (a browser or client that signed in to
  this account before: it holds a device token, cookie ``kiosk_device`` or the
  ``device`` field of the login body). Nobody can lock an account.
- Per address: ``ADDR_FREE`` wrong passwords within ``ADDR_WINDOW_S`` are free,
  then the address waits (growing, at most ``ADDR_MAX_DELAY``). Known devices
  are exempt, so a hall behind one NAT address keeps signing in while
  someone there guesses.
- A known device that keeps failing gets its own per-device delay.
"""

from __future__ import annotations

import secrets
import time

import sqlalchemy as sa

from .accounts import digest
from .security_schema import known_devices, login_throttle

USER_FREE = 3
USER_MAX_DELAY = 60.0
USER_FORGET_S = 24 * 3600  # failures older than this no longer count
ADDR_FREE = 20
ADDR_WINDOW_S = 15 * 60
ADDR_MAX_DELAY = 300.0
DEVICE_COOKIE = "kiosk_device"
DEVICE_TTL_S = 365 * 86400


def _delay(failures: int, free: int, cap: float) -> float:
    return 0.0 if failures < free else min(2.0 ** (failures - free), cap)


def _keys(username: str, address: str, device: str | None) -> list[tuple[str, int, float, float]]:
    """(key, free failures, longest delay, forget after) for this try."""
    if device:
        return [(f"dev:{device}", USER_FREE, USER_MAX_DELAY, USER_FORGET_S)]
    return [(f"user:{username.lower()}", USER_FREE, USER_MAX_DELAY, USER_FORGET_S),
            (f"addr:{address}", ADDR_FREE, ADDR_MAX_DELAY, ADDR_WINDOW_S)]


class Throttle:
    def __init__(self, engine: sa.Engine, clock=time.time):
        self.db = engine
        self.clock = clock

    def known_device(self, username: str, token: str | None) -> str | None:
        """The device's hash when ``token`` is a device this user signed in from before."""
        if not token or len(token) > 200:
            return None
        h = digest(token)
        with self.db.connect() as conn:
            row = conn.execute(sa.select(known_devices.c.username, known_devices.c.last_used)
                               .where(known_devices.c.token_hash == h)).first()
        if row is None or row.username != username or row.last_used < self.clock() - DEVICE_TTL_S:
            return None
        return h

    def wait_s(self, username: str, address: str, device: str | None) -> float:
        """Seconds before this try may be checked (0: go ahead)."""
        now, wait = self.clock(), 0.0
        keys = _keys(username, address, device)
        with self.db.connect() as conn:
            rows = {r.key: r for r in conn.execute(sa.select(login_throttle)
                                                   .where(login_throttle.c.key.in_([k[0] for k in keys])))}
        for key, _, _, forget in keys:
            row = rows.get(key)
            if row is not None and row.last_at > now - forget:
                wait = max(wait, row.until - now)
        return max(0.0, wait)

    def failed(self, username: str, address: str, device: str | None) -> None:
        now = self.clock()
        for key, free, cap, forget in _keys(username, address, device):
            for _ in range(3):  # two processes may insert the same key at once: count again
                try:
                    with self.db.begin() as conn:
                        row = conn.execute(sa.select(login_throttle.c.failures, login_throttle.c.last_at)
                                           .where(login_throttle.c.key == key)).first()
                        n = (row.failures if row and row.last_at > now - forget else 0) + 1
                        values = dict(failures=n, last_at=now, until=now + _delay(n, free, cap))
                        if row:
                            conn.execute(login_throttle.update().where(login_throttle.c.key == key).values(**values))
                        else:
                            conn.execute(login_throttle.insert().values(key=key, **values))
                    break
                except sa.exc.IntegrityError:
                    continue

    def succeeded(self, username: str, device: str | None) -> str:
        """Clear the account's (or device's) failures; returns the device token to keep (new or renewed)."""
        now = self.clock()
        token = None
        with self.db.begin() as conn:
            conn.execute(login_throttle.delete().where(login_throttle.c.key.in_(
                [f"user:{username.lower()}"] + ([f"dev:{device}"] if device else []))))
            if device:
                conn.execute(known_devices.update().where(known_devices.c.token_hash == device)
                             .values(last_used=now))
            else:
                token = secrets.token_urlsafe(32)
                conn.execute(known_devices.insert().values(token_hash=digest(token), username=username,
                                                           created_at=now, last_used=now))
            conn.execute(known_devices.delete().where(known_devices.c.last_used < now - DEVICE_TTL_S))
        return token or ""
