"""The evaluator's flow as a small state machine, without Kivy.

idle -> rating (a ticket finished at this window, or a walk-in touch) -> for a bad
level: reasons (提交 stores it: a bad rating takes 3 taps) -> thanks -> idle. From
the reasons a visitor may open the phone pad (optional); its 确定 stores the rating
with the number, 返回 goes back to the reasons. No answer before the
deadline is stored as *unrated*. One rating per ticket; a second press within a
second of the first is ignored. The screens only show ``state`` and forward
presses; tests drive this class directly with a fake clock.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from .ratings.model import BAD_LEVELS, LEVELS, PHONE_RE

DOUBLE_PRESS_S = 1.0
# USB keypads type digits; by default key 1 is the leftmost choice (非常满意), as printed on keypads
DEFAULT_KEYS = {"1": 5, "2": 4, "3": 3, "4": 2, "5": 1}


@dataclass
class Prompt:
    """One visitor's rating in progress."""

    key: str
    ticket_id: str | None
    ticket_number: str | None
    service: str | None
    level: int | None = None
    reasons: list[str] = field(default_factory=list)
    phone: str = ""


class EvaluatorSession:
    """``submit(prompt)`` stores a finished prompt (level None = unrated)."""

    def __init__(self, window: int, submit: Callable[[Prompt], None], *, timeout_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, keys: dict[str, int] | None = None):
        self.window = window
        self.submit = submit
        self.timeout_s = timeout_s
        self.clock = clock
        self.keys = dict(keys or DEFAULT_KEYS)
        self.state = "idle"  # idle | rating | reasons | phone | thanks
        self.prompt: Prompt | None = None
        self.deadline = 0.0
        self._last_press = -1e9
        self._rated_tickets: set[str] = set()

    # -------------------------------------------------------------- starting
    def ticket_finished(self, ticket_id: str, number: str | None, service: str | None = None) -> bool:
        """A window finished a ticket: ask for a rating, unless that ticket was rated."""
        if ticket_id in self._rated_tickets:
            return False
        if self.prompt is not None and self.state != "thanks":
            self._store(unrated=True)  # the previous visitor walked away
        self._begin(Prompt(key=uuid.uuid4().hex, ticket_id=ticket_id, ticket_number=number, service=service))
        return True

    def walk_in(self) -> bool:
        """A touch on the idle screen where the hall allows walk-in ratings."""
        if self.state != "idle":
            return False
        self._begin(Prompt(key=uuid.uuid4().hex, ticket_id=None, ticket_number=None, service=None))
        return True

    def _begin(self, prompt: Prompt) -> None:
        self.prompt = prompt
        self.state = "rating"
        self._touch()

    def _touch(self) -> None:
        self.deadline = self.clock() + self.timeout_s

    # --------------------------------------------------------------- presses
    def _debounced(self) -> bool:
        now = self.clock()
        if now - self._last_press < DOUBLE_PRESS_S:
            return False
        self._last_press = now
        return True

    def choose(self, level: int) -> bool:
        """A level pressed on screen (5 = 非常满意 ... 1 = 非常不满意)."""
        if self.state != "rating" or level not in LEVELS or not self._debounced():
            return False
        self.prompt.level = level
        if level in BAD_LEVELS:
            self.state = "reasons"
            self._touch()
        else:
            self._store()
        return True

    def key(self, char: str) -> bool:
        """A hardware key (USB keypads type digits)."""
        level = self.keys.get(char)
        return level is not None and self.choose(level)

    def toggle_reason(self, code: str) -> None:
        if self.state != "reasons":
            return
        reasons = self.prompt.reasons
        reasons.remove(code) if code in reasons else reasons.append(code)
        self._touch()

    def reasons_done(self) -> bool:
        """提交 on the reasons screen: store the bad rating (it needs at least one reason)."""
        if self.state != "reasons" or not self.prompt.reasons:
            return False
        self._store()
        return True

    def want_phone(self) -> bool:
        """留下电话 on the reasons screen: open the phone pad (the reasons stay chosen)."""
        if self.state != "reasons" or not self.prompt.reasons:
            return False  # a bad rating needs at least one reason
        self.state = "phone"
        self._touch()
        return True

    def keep_alive(self) -> None:
        """A touch anywhere: the visitor is still here, the deadline moves on."""
        if self.state in ("rating", "reasons", "phone"):
            self._touch()

    def type_phone(self, digit: str) -> None:
        if self.state == "phone" and digit.isdigit() and len(self.prompt.phone) < 11:
            self.prompt.phone += digit
            self._touch()

    def erase_phone(self) -> None:
        if self.state == "phone":
            self.prompt.phone = self.prompt.phone[:-1]
            self._touch()

    def phone_valid(self) -> bool:
        return bool(PHONE_RE.fullmatch(self.prompt.phone)) if self.prompt else False

    def phone_done(self, skip: bool = False) -> bool:
        """确定 stores the rating with a valid number; ``skip`` (返回) goes back to the reasons."""
        if self.state != "phone":
            return False
        if skip:
            self.prompt.phone = ""
            self.state = "reasons"
            self._touch()
            return True
        if not self.phone_valid():
            return False
        self._store()
        return True

    # ----------------------------------------------------------------- time
    def tick(self) -> None:
        """Call regularly: past the deadline a prompt is stored as unrated (or as far as it got)."""
        if self.state in ("rating", "reasons", "phone") and self.clock() >= self.deadline:
            if self.state == "phone":
                self.prompt.phone = ""
                self._store()  # the level and reasons were given; only the number is missing
            else:
                self._store(unrated=True)
        elif self.state == "thanks" and self.clock() >= self.deadline:
            self.state = "idle"
            self.prompt = None

    def _store(self, unrated: bool = False) -> None:
        prompt = self.prompt
        if unrated:
            prompt.level, prompt.reasons, prompt.phone = None, [], ""
        if prompt.ticket_id:
            self._rated_tickets.add(prompt.ticket_id)
        self.submit(prompt)
        if unrated:
            self.state, self.prompt = "idle", None
        else:
            self.state = "thanks"
            self.deadline = self.clock() + 3.0
