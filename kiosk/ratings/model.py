"""A satisfaction rating (好差评) and a follow-up case: the scale, validation, the API body.

Levels follow the national good/bad rating scale: 5 非常满意 ... 1 非常不满意;
1 and 2 are bad ratings (差评) and need at least one reason from the hall's
list. ``level=None`` is an *unrated* visit (no answer before the timeout):
stored, counted as ``unrated``, never counted as satisfied nor in ``total``.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Iterable

from ..domain import Hall

LEVELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_LEVELS = frozenset({1, 2})
SATISFIED_LEVELS = frozenset({3, 4, 5})
UNRATED_NAME = "未评价"
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")  # mainland mobile number
MAX_REASONS = 20
MAX_NOTE = 1000

DEFAULT_FOLLOWUP_DAYS = 15  # working days from the rating's day to the follow-up's due date
# 待整改 -> 已整改 -> 已回访; or closed at 核实 when a supervisor finds the bad rating untrue (verification.py)
FOLLOWUP_STATES = ("open", "rectified", "called_back", "rejected")
FOLLOWUP_STATE_NAMES = {"open": "待整改", "rectified": "已整改待回访", "called_back": "已回访",
                        "rejected": "核实不属实"}
CLOSED_STATES = ("called_back", "rejected")


class RatingError(ValueError):
    """A refused rating or follow-up action; ``field`` names the input at fault.

    ``code``: ``invalid`` (bad input), ``not_found`` (unknown follow-up),
    ``wrong_state`` (follow-up steps out of order).
    """

    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass
class Rating:
    id: str
    key: str
    level: int | None  # 1-5; None: unrated (no answer before the timeout), never counted as satisfied
    reasons: tuple[str, ...]
    phone: str | None
    ticket_id: str | None
    ticket_number: str | None
    window: int
    staff: str | None  # username of the staff member who served (on duty, for a walk-in)
    service: str | None
    walk_in: bool  # rated at the window without a ticket
    terminal: str | None
    created_at: float  # epoch seconds

    @property
    def bad(self) -> bool:
        return self.level in BAD_LEVELS

    @property
    def level_name(self) -> str:
        return LEVELS.get(self.level, UNRATED_NAME) if self.level is not None else UNRATED_NAME

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["reasons"] = list(self.reasons)
        return d


@dataclass
class FollowUp:
    id: str
    rating_id: str
    state: str  # open | rectified | called_back | rejected
    due_date: date
    created_at: float
    rectified_at: float | None = None
    rectified_by: str | None = None
    rectify_note: str | None = None
    called_back_at: float | None = None
    called_back_by: str | None = None
    callback_note: str | None = None
    callback_satisfied: bool | None = None  # what the visitor said when called back, if asked
    rating: Rating | None = None

    def overdue(self, today: date) -> bool:
        """Not closed (called back, or rejected on 核实) and the due day has passed."""
        return self.state not in CLOSED_STATES and today > self.due_date


# ------------------------------------------------------------- validation

def validate_rating(hall: Hall, *, level: int | None, reasons: Iterable[str] = (), phone: str | None = None,
                    window: int | None) -> None:
    """Raise ``RatingError`` naming the field if the rating cannot be stored."""
    if level is not None and (isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS):
        raise RatingError("level", "must be 1-5 (5 = 非常满意, 1 = 非常不满意) or null for unrated")
    if window is None or isinstance(window, bool) or not isinstance(window, int) or hall.window(window) is None:
        raise RatingError("window", f"unknown window {window}")
    reasons = list(reasons or ())
    known = {code for code, _ in hall.rating_reasons}
    if level in BAD_LEVELS:
        if not reasons:
            raise RatingError("reasons", "a bad rating (不满意/非常不满意) needs at least one reason")
    elif reasons:
        raise RatingError("reasons", "reasons are only given with a bad rating (level 1 or 2)")
    if len(reasons) > MAX_REASONS:
        raise RatingError("reasons", f"at most {MAX_REASONS} reasons")
    for i, code in enumerate(reasons):
        if code not in known:
            raise RatingError(f"reasons[{i}]", f"unknown reason '{code}'; the hall's reasons: {', '.join(sorted(known))}")
    if len(set(reasons)) != len(reasons):
        raise RatingError("reasons", "a reason is given twice")
    if phone is not None and (not isinstance(phone, str) or not PHONE_RE.fullmatch(phone)):
        raise RatingError("phone", "must be a mainland mobile number: 11 digits starting 13-19")


def make_rating(hall: Hall, *, key: str, level: int | None, window: int, reasons: Iterable[str] = (),
                phone: str | None = None, ticket_id: str | None = None, ticket_number: str | None = None,
                staff: str | None = None, service: str | None = None, walk_in: bool | None = None,
                terminal: str | None = None, created_at: float | None = None) -> Rating:
    """A validated new ``Rating`` (fresh id; ``walk_in`` defaults to "no ticket")."""
    if not key or not isinstance(key, str) or len(key) > 64:
        raise RatingError("key", "an idempotency key of 1-64 characters is required")
    reasons = tuple(reasons or ())
    phone = phone or None
    validate_rating(hall, level=level, reasons=reasons, phone=phone, window=window)
    return Rating(id=uuid.uuid4().hex, key=key, level=level, reasons=reasons, phone=phone, ticket_id=ticket_id,
                  ticket_number=ticket_number, window=window, staff=staff, service=service,
                  walk_in=(ticket_id is None) if walk_in is None else walk_in, terminal=terminal,
                  created_at=time.time() if created_at is None else created_at)


def api_body(rating: Rating) -> dict:
    """The JSON body of ``POST /api/v1/ratings`` for a rating made on a terminal (e.g. an outbox payload).

    With a ticket the window is left out: the server takes window, staff and
    service from the ticket, so a mis-set evaluator window cannot get the
    rating refused. The server refuses unknown fields, so send exactly this.
    """
    body: dict = {"key": rating.key, "level": rating.level, "reasons": list(rating.reasons),
                  "created_at": rating.created_at}
    if rating.ticket_id:
        body["ticket"] = rating.ticket_id
    else:
        body["window"] = rating.window
    if rating.phone:
        body["phone"] = rating.phone
    return body
