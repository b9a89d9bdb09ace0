"""The one queue order: who a window calls next, and so how many people are ahead of a ticket.

Calling (``QueueEngine.waiting_for`` / ``call_next``) and "people ahead" (the
ticket screen, the printed ticket, the phone page, the API) both come from
this module, so a visitor is never told a number the windows do not keep.

A window's calling order over the day's waiting tickets it serves (its own
services, plus tickets transferred to that window):

1. **front lanes**, in lane order, each in issue order. The built-in lane is
   ``transferred`` (a transferred visitor already waited once). More lanes plug
   in with ``Ordering.with_lane`` (appointments called ahead around their slot:
   see docs/CONTRACTS.md "Queue order"). The last lane may instead be
   **interleaved** with the rest (``Lane.in_a_row`` gives N): at most N calls
   of that lane in a row, counting the window's current ``lane_streak``, then
   one of the rest (appointments "interleaved like the green channel").
2. **the rest**, by the hall's ``PriorityRule`` at green-channel windows
   (``strict``: priority first; ``interleave``: at most ``max_in_a_row``
   priority calls before a normal one, counting the window's current streak;
   ``none``) and in issue order everywhere else.

Issue order is ``(issued_at, seq, id)``. A ticket's **people ahead** is its
position (0 = next) in the calling order of the open windows that serve it,
the smallest one (the window that will reach it first); when every such
window is paused, over all of them. ``position`` counts instead of sorting
(``position_from`` takes the counts, which the store can make in SQL);
``order`` builds the list. The property test in tests/test_ordering.py holds
the two to the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from .domain import PriorityRule, Ticket, Window

Admits = Callable[[Ticket, float], bool]


@dataclass(frozen=True)
class Lane:
    """Tickets for which ``admits(ticket, now)`` holds are called before the rest, in issue order.

    ``sql(columns)``, when given, is the same test as a SQL condition over the
    ``tickets`` columns (it must not depend on ``now``): then the store counts
    people ahead in SQL instead of loading the day's waiting tickets.

    ``in_a_row``, when given, returns N (or None: strict, as without it): the lane's tickets are then
    not all called first but merged with the rest, at most N of them in a row before one of the rest
    (counting the window's ``lane_streak``). Only the last lane may be interleaved. It is read once
    per ``Ordering`` (so a hall setting may change it between calls).
    """

    name: str
    admits: Admits
    sql: Callable[[object], object] | None = None
    in_a_row: Callable[[], int | None] | None = None


TRANSFERRED = Lane("transferred", lambda t, now: bool(t.transferred_from), lambda c: c.transferred_from.is_not(None))


@dataclass
class Counts:
    """What a window's queue holds around one ticket (that ticket left out): enough to place it."""

    front_total: int = 0  # tickets in front lanes (the interleaved lane left out)
    front_before: int = 0  # ... of them called before this one (when it is in a front lane itself)
    p_total: int = 0  # the rest: priority tickets (at a window that uses the priority rule)
    p_before: int = 0  # ... issued before this one
    n_total: int = 0  # the rest: every other ticket
    n_before: int = 0
    mixed_total: int = 0  # tickets in the interleaved lane (``Ordering.mixed``)
    mixed_before: int = 0  # ... of them issued before this one


def issue_key(t: Ticket) -> tuple:
    return (t.issued_at, t.seq, t.id)


def serves(window: Window, t: Ticket) -> bool:
    """Whether ``window`` may call ``t``: a ticket sent to a window is that window's alone."""
    return t.window == window.number if t.window is not None else t.service in window.services


@dataclass(frozen=True)
class Ordering:
    rule: PriorityRule = field(default_factory=PriorityRule)
    lanes: tuple[Lane, ...] = (TRANSFERRED,)
    # the interleaved lane's index and N, read from ``Lane.in_a_row`` once (None: every lane strict)
    mixed: int | None = field(default=None, init=False, compare=False)
    mixed_k: int = field(default=0, init=False, compare=False)

    def __post_init__(self) -> None:
        for i, lane in enumerate(self.lanes):
            if lane.in_a_row is None:
                continue
            if i != len(self.lanes) - 1:
                raise ValueError(f"lane '{lane.name}' is interleaved: it must be the last lane")
            k = lane.in_a_row()
            if k is not None:
                object.__setattr__(self, "mixed", i)
                object.__setattr__(self, "mixed_k", int(k))

    def with_lane(self, lane: Lane, after: str | None = "transferred") -> "Ordering":
        """A copy with ``lane`` inserted after the lane named ``after`` (``None``: first)."""
        names = [ln.name for ln in self.lanes]
        if lane.name in names:
            raise ValueError(f"lane '{lane.name}' is already there")
        at = 0 if after is None else names.index(after) + 1
        return Ordering(self.rule, self.lanes[:at] + (lane,) + self.lanes[at:])

    def with_rule(self, rule: PriorityRule) -> "Ordering":
        return Ordering(rule, self.lanes)

    # ---------------------------------------------------------------- parts
    def lane_of(self, t: Ticket, now: float) -> int | None:
        for i, lane in enumerate(self.lanes):
            if lane.admits(t, now):
                return i
        return None

    def uses_priority(self, window: Window) -> bool:
        return window.green_channel and self.rule.mode in ("strict", "interleave")

    # ---------------------------------------------------------------- order
    def order(self, window: Window, waiting: Iterable[Ticket], streak: int = 0, now: float = 0.0,
              lane_streak: int = 0) -> list[Ticket]:
        """The window's calling order: first = called next (``lane_streak``: the window's calls of the
        interleaved lane in a row so far)."""
        mine = sorted((t for t in waiting if serves(window, t)), key=issue_key)
        front: list[tuple[int, Ticket]] = []
        rest: list[Ticket] = []
        for t in mine:
            lane = self.lane_of(t, now)
            (rest.append(t) if lane is None else front.append((lane, t)))
        front.sort(key=lambda pair: pair[0])  # stable: issue order within a lane
        rest = self._rest_order(window, rest, streak)
        if self.mixed is None:
            return [t for _, t in front] + rest
        mixed = [t for lane, t in front if lane == self.mixed]
        return [t for lane, t in front if lane != self.mixed] + _merge(mixed, rest, self.mixed_k, lane_streak)

    def _rest_order(self, window: Window, rest: list[Ticket], streak: int) -> list[Ticket]:
        if not self.uses_priority(window):
            return rest
        prio = [t for t in rest if t.priority]
        normal = [t for t in rest if not t.priority]
        if self.rule.mode == "strict" or not normal:
            return prio + normal
        return _merge(prio, normal, self.rule.max_in_a_row, streak)

    # ------------------------------------------------------------- position
    def position(self, window: Window, ticket: Ticket, waiting: Iterable[Ticket], streak: int = 0,
                 now: float = 0.0, lane_streak: int = 0) -> int | None:
        """``order(...).index(ticket)`` without sorting; None when the window does not serve it."""
        if not serves(window, ticket):
            return None
        key = issue_key(ticket)
        my_lane = self.lane_of(ticket, now)
        prio = self.uses_priority(window)
        c = Counts()
        for t in waiting:
            if t.id == ticket.id or not serves(window, t):
                continue
            lane = self.lane_of(t, now)
            earlier = issue_key(t) < key
            if lane is not None and lane == self.mixed:
                c.mixed_total += 1
                c.mixed_before += earlier
            elif lane is not None:
                c.front_total += 1
                if my_lane is not None and (lane < my_lane or (lane == my_lane and earlier)):
                    c.front_before += 1
            elif prio and t.priority:
                c.p_total += 1
                c.p_before += earlier
            else:
                c.n_total += 1
                c.n_before += earlier
        return self.position_from(window, ticket, c, streak, my_lane, lane_streak)

    def position_from(self, window: Window, ticket: Ticket, c: Counts, streak: int, my_lane: int | None,
                      lane_streak: int = 0) -> int:
        """The ticket's index in the window's order, from the counts of its queue (``my_lane``: its lane)."""
        rest_total = c.p_total + c.n_total
        if my_lane is not None and my_lane == self.mixed:
            return c.front_total + _merged_position(True, c.mixed_before, rest_total, self.mixed_k, lane_streak)
        if my_lane is not None:
            return c.front_before
        if not self.uses_priority(window):
            j = c.p_before + c.n_before
        else:
            j = self._rest_position(bool(ticket.priority), c.p_before, c.n_before, c.p_total, c.n_total, streak)
        if self.mixed is not None and c.mixed_total:
            j = _merged_position(False, j, c.mixed_total, self.mixed_k, lane_streak)
        return c.front_total + j

    def _rest_position(self, is_prio: bool, p_before: int, n_before: int, p_total: int, n_total: int,
                       streak: int) -> int:
        """Closed form of ``_rest_order``'s index (the other tickets' counts, this one excluded)."""
        if self.rule.mode == "strict":
            return p_before if is_prio else p_total + n_before
        if is_prio:
            return _merged_position(True, p_before, n_total, self.rule.max_in_a_row, streak)
        return _merged_position(False, n_before, p_total, self.rule.max_in_a_row, streak)

    def people_ahead(self, ticket: Ticket, windows: Sequence[Window], waiting: Sequence[Ticket],
                     streaks: Mapping[int, int] | None = None, paused: Iterable[int] = (),
                     now: float = 0.0, lane_streaks: Mapping[int, int] | None = None) -> int:
        """How many tickets the window that reaches ``ticket`` first calls before it.

        Over the open windows that serve it; if all are paused, over all of them;
        with no window serving it at all, the earlier tickets of its service.
        """
        streaks, lane_streaks = streaks or {}, lane_streaks or {}
        paused = set(paused)
        serving = [w for w in windows if serves(w, ticket)]
        open_ = [w for w in serving if w.number not in paused] or serving
        if not open_:
            key = issue_key(ticket)
            return sum(1 for t in waiting if t.id != ticket.id and t.window is None
                       and t.service == ticket.service and issue_key(t) < key)
        return min(self.position(w, ticket, waiting, streaks.get(w.number, 0), now, lane_streaks.get(w.number, 0))
                   for w in open_)


def _merge(first: list[Ticket], other: list[Ticket], k: int, streak: int) -> list[Ticket]:
    """``first`` and ``other`` (each in its own order) merged: at most ``k`` of ``first`` in a row
    (``streak`` of them already called), then one of ``other``; what is left of either at the end."""
    ordered: list[Ticket] = []
    fi = oi = 0
    while fi < len(first) or oi < len(other):
        if fi < len(first) and (streak < k or oi == len(other)):
            ordered.append(first[fi])
            fi += 1
            streak += 1
        else:
            ordered.append(other[oi])
            oi += 1
            streak = 0
    return ordered


def _merged_position(is_first: bool, before: int, other_total: int, k: int, streak: int) -> int:
    """Closed form of a ticket's index in ``_merge``: it is the ``before``-th of its own list, and the
    other list holds ``other_total`` tickets."""
    if other_total == 0:
        return before
    first_run = max(0, k - streak)  # calls of ``first`` before the first one of ``other``
    if is_first:
        i = before
        if k <= 0:
            return other_total + i
        others_before = 0 if i < first_run else 1 + (i - first_run) // k
        return i + min(other_total, others_before)
    j = before
    if k <= 0:
        return j
    return j + min(other_total, first_run + j * k)
