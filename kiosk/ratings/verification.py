"""核实: a supervisor confirms or rejects a bad rating, with a reason (migration component ``rating_verify``).

Provinces check a bad rating before they hold a window to it: one found
untrue (a misplaced key, a visitor rating the wrong window, a rating made to
pressure staff) is *rejected*. A rejected rating is kept, with its verdict,
reason, who and when, but it leaves the 满意率: ``counted`` is the condition
statistics add, and ``RatingStore.stats`` reports how many it left out
(``rejected``). Its follow-up case closes as ``rejected`` (核实不属实): nothing
to rectify, never overdue. A *confirmed* rating keeps its case as it is.

A verdict is given once, while the case is open or rectified (not after the
call back closed it); a second one is refused (``wrong_state``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..storage.db import reader
from ..storage.schema import migrate
from .model import FollowUp, RatingError
from .tables import followups

VERDICT_NAMES = {"confirmed": "核实属实", "rejected": "核实不属实"}
VERIFIABLE_STATES = ("open", "rectified")
MAX_REASON = 1000

metadata = sa.MetaData()

verifications = sa.Table(
    "rating_verifications", metadata,
    sa.Column("rating_id", sa.String(32), primary_key=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("verdict", sa.String(10), nullable=False),  # confirmed | rejected
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("verified_by", sa.String(64)),
    sa.Column("verified_at", sa.Float, nullable=False),
)


def _v1(conn: sa.Connection) -> None:
    verifications.create(conn, checkfirst=True)


VERIFY_MIGRATIONS = [_v1]


def prepare(engine: sa.Engine) -> None:
    migrate(engine, "rating_verify", VERIFY_MIGRATIONS)


@dataclass(frozen=True)
class Verdict:
    rating_id: str
    verdict: str  # confirmed | rejected
    reason: str
    by: str | None
    at: float

    @property
    def name(self) -> str:
        return VERDICT_NAMES[self.verdict]

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "reason": self.reason, "by": self.by, "at": self.at}


def counted(rating_id: sa.ColumnElement) -> sa.ColumnElement:
    """SQL condition: the rating counts in 满意率 (it was not rejected on 核实)."""
    return ~sa.exists().where(verifications.c.rating_id == rating_id, verifications.c.verdict == "rejected")


def rejected_only(rating_id: sa.ColumnElement) -> sa.ColumnElement:
    return sa.exists().where(verifications.c.rating_id == rating_id, verifications.c.verdict == "rejected")


def _check(verdict: str, reason: str) -> str:
    if verdict not in VERDICT_NAMES:
        raise RatingError("verdict", "must be 'confirmed' (核实属实) or 'rejected' (核实不属实)")
    reason = (reason or "").strip()
    if not reason:
        raise RatingError("reason", "give the reason of the verdict (what was checked, what was found)")
    if len(reason) > MAX_REASON:
        raise RatingError("reason", f"at most {MAX_REASON} characters")
    return reason


def verify(engine: sa.Engine, hall: str, followup_id: str, verdict: str, reason: str, who: str,
           at: float | None = None) -> None:
    """Record the verdict on the bad rating of case ``followup_id``; a rejection closes the case.

    Raises ``RatingError``: ``not_found`` (no such case in this hall), ``wrong_state``
    (already verified, or the case is closed), ``invalid`` (verdict, reason).
    """
    reason = _check(verdict, reason)
    at = time.time() if at is None else at
    try:
        with engine.begin() as conn:
            case = conn.execute(sa.select(followups.c.rating_id, followups.c.state)
                                .where(followups.c.hall == hall, followups.c.id == followup_id)).first()
            if case is None:
                raise RatingError("id", f"unknown follow-up '{followup_id}'", "not_found")
            if case.state not in VERIFIABLE_STATES:
                raise RatingError("state", f"the case is '{case.state}': 核实 is done while it is open or rectified",
                                  "wrong_state")
            conn.execute(verifications.insert().values(rating_id=case.rating_id, hall=hall, verdict=verdict,
                                                       reason=reason, verified_by=who, verified_at=at))
            if verdict == "rejected":
                changed = conn.execute(followups.update().where(followups.c.id == followup_id,
                                                                followups.c.state == case.state)
                                       .values(state="rejected")).rowcount
                if not changed:  # another step moved the case meanwhile
                    raise RatingError("state", "the case changed meanwhile; reload and try again", "wrong_state")
    except IntegrityError:
        raise RatingError("verdict", "this bad rating was already verified (核实 is given once)",
                          "wrong_state") from None


def store_verdict(conn: sa.Connection, hall: str, rating_id: str, v: dict) -> None:
    """Keep a verdict given elsewhere (a linked hall's): the first one stays."""
    if conn.execute(sa.select(verifications.c.rating_id).where(verifications.c.rating_id == rating_id)).first():
        return
    conn.execute(verifications.insert().values(rating_id=rating_id, hall=hall, verdict=v["verdict"],
                                               reason=_check(v["verdict"], v.get("reason", "")),
                                               verified_by=v.get("by"), verified_at=float(v["at"])))


def verdicts(engine: sa.Engine, rating_ids: Iterable[str]) -> dict[str, Verdict]:
    """{rating id: verdict} for those of ``rating_ids`` that were verified."""
    ids = list(rating_ids)
    out: dict[str, Verdict] = {}
    with reader(engine) as conn:
        for i in range(0, len(ids), 500):
            for r in conn.execute(sa.select(verifications).where(verifications.c.rating_id.in_(ids[i:i + 500]))):
                out[r.rating_id] = Verdict(r.rating_id, r.verdict, r.reason, r.verified_by, r.verified_at)
    return out


def verdict_of(f: FollowUp, found: dict[str, Verdict]) -> Verdict | None:
    return found.get(f.rating_id)
