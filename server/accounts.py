"""Staff accounts, staff sessions, terminal enrollment and terminal tokens.

Secrets are random, shown once, and stored only as SHA-256 hashes (tokens,
enrollment codes) or argon2 hashes (passwords), so a copied database gives
nobody a way in.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.hashing import password_hasher

from .schema import enrollment_codes, sessions, terminals, users
from .security_schema import enrollment_scopes, terminal_scopes

HALL_ROLES = ("window", "supervisor", "admin")  # staff of one hall
COUNTY_ROLES = ("county-admin", "county-viewer")  # no hall: they see every hall
ROLES = HALL_ROLES + COUNTY_ROLES
TERMINAL_MODES = ("dispenser", "evaluator", "inquiry", "combined")
SESSION_TTL_S = 12 * 3600  # one working day; staff sign in again tomorrow
TERMINAL_TTL_S = 30 * 86400  # sliding: renewed while the terminal keeps calling in
ENROLLMENT_TTL_S = 24 * 3600
MIN_PASSWORD = 10
MIN_SCORE = 3  # zxcvbn: 'safely unguessable', about 10^8 guesses and up

_hasher = password_hasher()  # strong argon2id costs (kiosk.hashing)
# Verifying against this when the user does not exist keeps the timing the same. Made once with the strong
# costs (hashing it at every start cost the server a second): made afresh only if the hasher's costs differ
# (the tests' cheap ones), so it always costs what a real user's verify costs.
_STRONG_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$nFQ3r1gkQ4sZEEETqgtlvQ$rTcVxnopF5we0CL1Jb3/GdwhOktSXExFiffF/3U36ho"
_DUMMY_HASH = (_hasher.hash("not a real password") if _hasher.check_needs_rehash(_STRONG_DUMMY) else _STRONG_DUMMY)
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud over the phone


class AccountError(Exception):
    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Principal:
    kind: str  # staff | terminal
    name: str  # username or terminal id
    role: str  # window | supervisor | admin | terminal
    expires_at: float
    csrf: str = ""
    display_name: str = ""
    window: int | None = None  # staff: their window; an evaluator terminal: the window it rates
    mode: str = ""  # terminals: the mode they were enrolled for
    hall: str | None = None  # the hall a terminal or hall staff member belongs to; None: a county user

    @property
    def county(self) -> bool:
        return self.role in COUNTY_ROLES

    def may_act_on(self, window: int) -> bool:
        """Window staff act on their own window; supervisors, admins and the county admin on any."""
        return self.role in ("supervisor", "admin", "county-admin") or (self.role == "window"
                                                                        and self.window == window)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


# ------------------------------------------------------------------- users

def check_password(password: str, *personal: str) -> None:
    """At least ``MIN_PASSWORD`` characters and not guessable (zxcvbn score >= ``MIN_SCORE``).

    zxcvbn knows common passwords, words, names, keyboard walks, dates,
    sequences and repeats; ``personal`` (the username, display name, staff
    number) counts as known to an attacker too.
    """
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", f"must be at least {MIN_PASSWORD} characters / 密码至少 {MIN_PASSWORD} 位")
    if len(password) > 200:
        raise AccountError("password", "must be at most 200 characters")
    from zxcvbn import zxcvbn

    words = [w for w in (*personal, "kiosk", "hall", "admin", "clerk", "window") if w]
    found = zxcvbn(password[:100], user_inputs=words)
    if found["score"] < MIN_SCORE:
        why = found["feedback"].get("warning") or "it is easy to guess"
        raise AccountError("password", f"too easy to guess: {why.rstrip('.')}; use a longer phrase of unrelated "
                                       "words / 密码太容易被猜到，请使用更长、不常见的密码")


def user_hall(conn: sa.Connection, role: str, hall: str | None) -> str | None:
    """The hall a new account of ``role`` belongs to: given, or the only one; county roles have none."""
    from . import hall_store

    if role in COUNTY_ROLES:
        if hall is not None:
            raise AccountError("hall", f"a {role} sees every hall: give no hall")
        return None
    if hall is None:
        codes = hall_store.hall_codes(conn)
        if len(codes) == 1:
            return codes[0]
        if not codes:  # an empty database: the first hall loaded takes it (hall_store.seed)
            return None
        raise AccountError("hall", f"this server holds {len(codes)} halls: name one ({', '.join(codes)})")
    if not hall_store.exists(conn, hall):
        raise AccountError("hall", f"unknown hall '{hall}'", 404)
    return hall


def add_user(engine: sa.Engine, username: str, role: str, password: str, display_name: str = "",
             staff_no: str = "", window: int | None = None, hall: str | None = None) -> str | None:
    """Add an account; returns the hall it belongs to (None: a county user)."""
    if role not in ROLES:
        raise AccountError("role", f"must be one of {', '.join(ROLES)}")
    check_password(password, username, display_name, staff_no)
    with engine.begin() as conn:
        hall = user_hall(conn, role, hall)
        if conn.execute(sa.select(users.c.username).where(users.c.username == username)).first():
            raise AccountError("username", f"user '{username}' already exists", 409)
        conn.execute(users.insert().values(username=username, role=role, password_hash=_hasher.hash(password),
                                           display_name=display_name or username, staff_no=staff_no,
                                           window=window, active=True, created_at=time.time(), hall=hall))
    return hall


def user_in_hall(engine: sa.Engine, username: str, hall: str) -> bool:
    """True if the account exists and works in ``hall`` (county users belong to no hall)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.username)
                            .where(users.c.username == username, users.c.hall == hall)).first() is not None


def hall_of(engine: sa.Engine, username: str) -> str | None:
    """The hall of an account (None: unknown, or a county user)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.hall).where(users.c.username == username)).scalar()


def update_user(engine: sa.Engine, username: str, hall: str | None = None, **changes) -> None:
    """Change an account; with ``hall``, only an account of that hall (404 otherwise)."""
    if "password" in changes:
        password = changes.pop("password")
        if password is not None:
            check_password(password, username, changes.get("display_name") or "", changes.get("staff_no") or "")
            changes["password_hash"] = _hasher.hash(password)
    if changes.get("role") is not None and changes["role"] not in (HALL_ROLES if hall else ROLES):
        raise AccountError("role", f"must be one of {', '.join(HALL_ROLES if hall else ROLES)}")
    changes = {k: v for k, v in changes.items() if v is not None}
    where = [users.c.username == username] + ([users.c.hall == hall] if hall else [])
    with engine.begin() as conn:
        found = conn.execute(users.update().where(*where).values(**changes)).rowcount \
            if changes else conn.execute(sa.select(sa.func.count()).where(*where)).scalar()
        if not found:
            raise AccountError("username", f"unknown user '{username}'", 404)
        if changes.get("active") is False or "password_hash" in changes or "role" in changes:
            conn.execute(sessions.delete().where(sessions.c.username == username))  # sign them out


def list_users(engine: sa.Engine, hall: str | None = None) -> list[dict]:
    """Accounts (of ``hall`` only, when given)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.username, users.c.display_name, users.c.staff_no, users.c.role,
                                      users.c.active, users.c.window, users.c.hall)
                            .where(*([users.c.hall == hall] if hall else [])).order_by(users.c.username))
        return [dict(r._mapping) for r in rows]


def login(engine: sa.Engine, username: str, password: str) -> tuple[str, Principal]:
    """A new session token for valid credentials, else ``AccountError``."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        ok = row is not None and row.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise AccountError("password", "wrong username or password / 用户名或密码错误", 401)
    token, now = new_token(), time.time()
    principal = Principal("staff", row.username, row.role, now + SESSION_TTL_S, secrets.token_urlsafe(24),
                          row.display_name, row.window, hall=row.hall)
    with engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires_at < now))  # tidy as we go
        conn.execute(sessions.insert().values(token_hash=digest(token), username=row.username,
                                              csrf=principal.csrf, created_at=now,
                                              expires_at=principal.expires_at))
    return token, principal


def logout(engine: sa.Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.token_hash == digest(token)))


def resolve(engine: sa.Engine, token: str) -> Principal | None:
    """The staff member or terminal a bearer token belongs to, if still valid."""
    h, now = digest(token), time.time()
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(sessions.c.username, sessions.c.csrf, sessions.c.expires_at, users.c.role,
                      users.c.display_name, users.c.window, users.c.hall)
            .join(users, users.c.username == sessions.c.username)
            .where(sessions.c.token_hash == h, sessions.c.expires_at > now, users.c.active.is_(True))).first()
        if row:
            return Principal("staff", row.username, row.role, row.expires_at, row.csrf, row.display_name,
                             row.window, hall=row.hall)
        row = conn.execute(sa.select(terminals.c.id, terminals.c.name, terminals.c.token_expires_at, terminals.c.hall,
                                     terminal_scopes.c.mode, terminal_scopes.c.window)
                           .join(terminal_scopes, terminal_scopes.c.terminal_id == terminals.c.id, isouter=True)
                           .where(terminals.c.token_hash == h, terminals.c.revoked.is_(False),
                                  terminals.c.token_expires_at > now)).first()
    if row is None:
        return None
    expires = row.token_expires_at
    if expires - now < TERMINAL_TTL_S - 3600:  # slide the expiry, at most one write an hour
        expires = now + TERMINAL_TTL_S
        with engine.begin() as conn:
            conn.execute(terminals.update().where(terminals.c.id == row.id)
                         .values(last_seen=now, token_expires_at=expires))
    return Principal("terminal", row.id, "terminal", expires, "", row.name, row.window, row.mode or "dispenser",
                     hall=row.hall)


# --------------------------------------------------------------- terminals

def _code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _normalise_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _check_scope(mode: str | None, window: int | None) -> None:
    if mode is not None and mode not in TERMINAL_MODES:
        raise AccountError("mode", f"must be one of {', '.join(TERMINAL_MODES)}")
    if window is not None and mode not in (None, "evaluator"):
        raise AccountError("window", "only an evaluator is bound to a window")


def enrollment_code(engine: sa.Engine, name: str | None = None, mode: str | None = None,
                    window: int | None = None, hall: str | None = None) -> tuple[str, float]:
    """A one-time code for a terminal of ``hall`` (may be omitted when the server holds one hall).

    With ``mode`` (and ``window`` for an evaluator) the terminal can enroll only as that; with ``name``
    the terminal takes that name, whatever its file says.
    """
    _check_scope(mode, window)
    code, now = _code(), time.time()
    with engine.begin() as conn:
        hall = user_hall(conn, "window", hall)  # the same rule as a hall's staff: given, or the only hall
        conn.execute(enrollment_codes.insert().values(code_hash=digest(code), name=name, created_at=now,
                                                      expires_at=now + ENROLLMENT_TTL_S, hall=hall))
        if mode is not None or window is not None:
            conn.execute(enrollment_scopes.insert().values(code_hash=digest(code), mode=mode, window=window))
    return code, now + ENROLLMENT_TTL_S


def enroll(engine: sa.Engine, code: str, name: str, address: str | None = None, mode: str | None = None,
           window: int | None = None) -> tuple[str, str]:
    """Spend a one-time code; returns (terminal id, token).

    The terminal belongs to the code's hall. A code made for a name gives the terminal that name
    (``resolve`` tells the terminal, which keeps its file in step). The token is scoped to ``mode``
    (default dispenser) and, for an evaluator, ``window``; a code made for a mode or window admits
    only that one.
    """
    _check_scope(mode, window)
    h, now = digest(_normalise_code(code)), time.time()
    terminal_id, token = uuid.uuid4().hex, new_token()
    with engine.begin() as conn:
        row = conn.execute(sa.select(enrollment_codes.c.name, enrollment_codes.c.hall)
                           .where(enrollment_codes.c.code_hash == h)).first()
        # The conditional UPDATE is the one-time guarantee: two racing enrollments cannot both match.
        spent = conn.execute(enrollment_codes.update()
                             .where(enrollment_codes.c.code_hash == h, enrollment_codes.c.used_at.is_(None),
                                    enrollment_codes.c.expires_at > now)
                             .values(used_at=now, terminal_id=terminal_id)).rowcount
        if not spent:
            raise AccountError("code", "unknown, used or expired enrollment code", 403)
        if row.name:
            name = row.name  # the code's name wins: the terminal updates its file
        scope = conn.execute(sa.select(enrollment_scopes).where(enrollment_scopes.c.code_hash == h)).first()
        if scope is not None and scope.mode is not None:
            if mode not in (None, scope.mode):
                raise AccountError("mode", f"this code was made for a terminal in {scope.mode} mode: "
                                   f"set mode = \"{scope.mode}\" in the terminal file", 403)
            mode = scope.mode
        if scope is not None and scope.window is not None:
            if window not in (None, scope.window):
                raise AccountError("window", f"this code was made for the evaluator of window {scope.window}", 403)
            window = scope.window
        mode = mode or "dispenser"
        if mode == "evaluator" and window is None:
            raise AccountError("window", "an evaluator is enrolled for one window: give its number")
        if mode != "evaluator":
            window = None
        conn.execute(terminal_scopes.insert().values(terminal_id=terminal_id, mode=mode, window=window))
        conn.execute(terminals.insert().values(id=terminal_id, name=name, token_hash=digest(token),
                                               token_expires_at=now + TERMINAL_TTL_S, enrolled_at=now,
                                               last_seen=now, address=address, hall=row.hall))
    return terminal_id, token


def heartbeat(engine: sa.Engine, terminal_id: str, address: str | None, **health) -> float:
    """Record the terminal's health and slide its token's expiry; returns the new expiry."""
    now = time.time()
    values = {k: v for k, v in health.items() if v is not None}
    with engine.begin() as conn:
        conn.execute(terminals.update().where(terminals.c.id == terminal_id)
                     .values(last_seen=now, address=address, token_expires_at=now + TERMINAL_TTL_S, **values))
    return now + TERMINAL_TTL_S


def list_terminals(engine: sa.Engine, hall: str | None = None) -> list[dict]:
    cols = [c for c in terminals.c if c.name != "token_hash"]
    cols += [terminal_scopes.c.mode.label("enrolled_mode"), terminal_scopes.c.window.label("enrolled_window")]
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(*cols).join(terminal_scopes, terminal_scopes.c.terminal_id == terminals.c.id, isouter=True)
            .where(*([terminals.c.hall == hall] if hall else [])).order_by(terminals.c.name))]


def revoke_terminal(engine: sa.Engine, terminal_id: str, hall: str | None = None) -> None:
    """Withdraw a terminal's token (of ``hall`` only, when given: 404 for another hall's)."""
    where = [terminals.c.id == terminal_id] + ([terminals.c.hall == hall] if hall else [])
    with engine.begin() as conn:
        if not conn.execute(terminals.update().where(*where).values(revoked=True)).rowcount:
            raise AccountError("terminal_id", f"unknown terminal '{terminal_id}'", 404)
