"""The settings PIN: stored as an argon2id hash, guarded against guessing.

Five wrong tries lock the pad for five minutes. The count and the lock live in a
small JSON file in the data folder, so restarting the app (or pulling the plug)
does not give a guesser fresh tries. Each try is counted *before* the hash is
checked: a power cut in the middle of a check costs a try instead of giving one.

No PIN configured (empty ``security.pin_hash``): the pad never opens. Settings can
then only be reached by someone with a shell on the box, who runs
``kiosk terminal set-pin`` first. A terminal in a public hall must not ship with
an open settings screen, and a default PIN would be the same in every hall.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .atomic import write_atomic
from .hashing import password_hasher

MAX_TRIES = 5
LOCK_SECONDS = 5 * 60
STATE_FILE = "pin_guard.json"
PIN_RE = re.compile(r"[0-9]{4,8}")  # what the pad takes (older 4-digit PINs still open it)
NEW_PIN_LENGTH = 6

log = logging.getLogger(__name__)
_HASHER = password_hasher()  # argon2id, 64 MiB, t=3: about a second on a small box (kiosk.hashing)


def valid_pin_format(pin: str) -> bool:
    """4 to 8 ASCII digits (full-width digits and spaces are not PIN digits)."""
    return isinstance(pin, str) and PIN_RE.fullmatch(pin) is not None


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` may not become a new PIN (English / Chinese), or None.

    Exactly six ASCII digits, and not one a guesser tries first: one digit
    repeated (000000), a run up or down (123456, 987654, 890123), or a short
    group repeated (121212, 123123).
    """
    if not isinstance(pin, str) or not re.fullmatch(r"[0-9]{%d}" % NEW_PIN_LENGTH, pin):
        return f"the PIN must be exactly {NEW_PIN_LENGTH} digits (0-9) / 密码须为{NEW_PIN_LENGTH}位数字"
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:])}
    if steps == {0}:
        return "one digit repeated is guessed first; choose another PIN / 密码不能是同一数字重复"
    if steps in ({1}, {9}):
        return "a run of digits (123456, 987654) is guessed first; choose another PIN / 密码不能是连续数字"
    for size in (2, 3):
        if pin == pin[:size] * (NEW_PIN_LENGTH // size):
            return "a repeated group (121212, 123123) is guessed first; choose another PIN / 密码不能是重复的数字组合"
    return None


def hash_pin(pin: str, *, hasher: PasswordHasher | None = None) -> str:
    """A salted argon2id hash of a new ``pin``; ValueError (with ``pin_problem``'s reason) when it is weak."""
    problem = pin_problem(pin)
    if problem:
        raise ValueError(problem)
    return (hasher or _HASHER).hash(pin)


def pin_configured(pin_hash: str) -> bool:
    """True when ``pin_hash`` looks like an argon2 hash (anything else opens nothing)."""
    return pin_hash.startswith("$argon2")


@dataclass(frozen=True)
class PinResult:
    ok: bool
    locked_until: float | None  # epoch seconds while the pad is locked
    tries_left: int
    message_zh: str


MSG_OK = "密码正确"
MSG_EMPTY = "请输入密码"
# the command on a line of its own: a screen keeps it whole and no full stop clings to it (a line break between
# "kiosk terminal" and "set-pin。" was read as two things to type); with sudo, as on the box (deploy/README.md:
# the terminal file there is not the technician's to write)
SET_PIN_COMMAND = "sudo kiosk terminal set-pin"
MSG_NOT_SET = f"尚未设置管理密码，无法从触摸屏进入设置。请维护人员在本机运行：\n{SET_PIN_COMMAND}"


def _msg_wrong(tries_left: int) -> str:
    return f"密码错误，还可以再试 {tries_left} 次"


def _msg_locked(seconds: float) -> str:
    return f"密码错误次数过多，已锁定，请 {max(1, math.ceil(seconds / 60))} 分钟后再试"


class PinGuard:
    """Checks PINs against ``pin_hash`` and keeps the lockout state in ``data_dir``."""

    def __init__(self, data_dir: Path, pin_hash: str, clock: Callable[[], float] = time.time):
        self.state_path = Path(data_dir) / STATE_FILE
        self.pin_hash = pin_hash
        self.clock = clock
        self._lock = threading.Lock()  # the check is slow; a UI may run it on a worker thread
        self._unsaved: tuple[int, float | None] | None = None  # state the disk refused

    @property
    def configured(self) -> bool:
        return pin_configured(self.pin_hash)

    def status(self) -> PinResult:
        """The pad's state without a try: show it when the PIN pad opens (``ok`` is False)."""
        with self._lock:
            if not self.configured:
                return PinResult(False, None, 0, MSG_NOT_SET)
            failures, locked_until = self._load()
            if locked_until is not None:
                return PinResult(False, locked_until, 0, _msg_locked(locked_until - self.clock()))
            return PinResult(False, None, MAX_TRIES - failures, "")

    def verify(self, pin: str) -> PinResult:
        with self._lock:
            if not self.configured:
                return PinResult(False, None, 0, MSG_NOT_SET)
            failures, locked_until = self._load()
            if locked_until is not None:  # refuse without checking, even the right PIN
                return PinResult(False, locked_until, 0, _msg_locked(locked_until - self.clock()))
            if not pin:
                return PinResult(False, None, MAX_TRIES - failures, MSG_EMPTY)
            failures += 1
            if failures >= MAX_TRIES:
                locked_until = self.clock() + LOCK_SECONDS
            self._save(failures, locked_until)  # count the try before checking it
            if valid_pin_format(pin) and self._matches(pin):
                self._save(0, None)
                return PinResult(True, None, MAX_TRIES, MSG_OK)
            log.warning("wrong settings PIN (%d of %d)", failures, MAX_TRIES)
            if locked_until is not None:
                log.warning("settings PIN pad locked for %d s", LOCK_SECONDS)
                return PinResult(False, locked_until, 0, _msg_locked(LOCK_SECONDS))
            return PinResult(False, None, MAX_TRIES - failures, _msg_wrong(MAX_TRIES - failures))

    def reset(self) -> None:
        """Forget failures and any lock (``kiosk terminal set-pin`` does this)."""
        with self._lock:
            self.state_path.unlink(missing_ok=True)
            self._unsaved = None

    def _matches(self, pin: str) -> bool:
        try:
            return _HASHER.verify(self.pin_hash, pin)
        except (VerificationError, InvalidHashError):
            return False

    def _load(self) -> tuple[int, float | None]:
        """(failures, locked_until); an expired lock gives a fresh set of tries."""
        failures, locked_until = self._unsaved or self._read()
        if locked_until is None:
            return max(0, min(failures, MAX_TRIES - 1)), None
        now = self.clock()
        if locked_until <= now:
            return 0, None
        if locked_until > now + LOCK_SECONDS:
            # The clock went back (e.g. a box without RTC battery before NTP): never lock
            # for longer than one lock period from now.
            locked_until = now + LOCK_SECONDS
            self._save(MAX_TRIES, locked_until)
        return MAX_TRIES, locked_until

    def _read(self) -> tuple[int, float | None]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            locked_until = data.get("locked_until")
            return int(data.get("failures", 0)), (float(locked_until) if locked_until is not None else None)
        except FileNotFoundError:
            return 0, None
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # Written atomically, so this is a damaged disk, not a torn write.
            log.warning("unreadable %s (%s); starting from zero failures", self.state_path, exc)
            return 0, None

    def _save(self, failures: int, locked_until: float | None) -> None:
        data = json.dumps({"failures": failures, "locked_until": locked_until}).encode()
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.state_path, data, new_mode=0o644)
            self._unsaved = None
        except OSError as exc:  # a full or read-only disk: keep guarding for this run at least
            log.error("cannot save the PIN lockout state to %s: %s", self.state_path, exc)
            self._unsaved = (failures, locked_until)
