"""People ahead counted in SQL: one grouped statement over the waiting queue around a ticket,
and its rows folded into each window's ``kiosk.ordering.Counts``.

``kiosk.storage.queue_store.QueueStore.ahead_counts`` runs it; ``kiosk.ordering.Ordering.position_from``
turns a window's ``Counts`` into a position. The same answer without SQL is
``kiosk.ordering.Ordering.people_ahead``.
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa

from kiosk.domain import TicketStatus, Window
from kiosk.ordering import Counts, Ordering

from .schema import tickets

_B = sa.bindparam


def ahead_statement(ordering: Ordering):
    """The waiting queue around one ticket, in groups: one row per (service, window, priority) with
    ``count, earlier`` and, per front lane, ``in lane, in lane and earlier``.

    Grouped by plain columns in the order of ``ix_tickets_waiting``, so SQLite counts from the index
    alone without sorting; ``window_counts`` turns the rows into each window's ``Counts``.
    """
    c = tickets.c
    ia, seq, tid = _B("issued_at"), _B("seq"), _B("id")
    earlier = sa.or_(c.issued_at < ia, sa.and_(c.issued_at == ia, c.seq < seq),
                     sa.and_(c.issued_at == ia, c.seq == seq, c.id < tid))

    def count(cond):
        return sa.func.sum(sa.case((cond, 1), else_=0))

    aggregates = [sa.func.count(), count(earlier)]
    taken = []
    for lane in ordering.lanes:  # a ticket belongs to the first lane that admits it
        cond = sa.and_(lane.sql(c), *[sa.not_(t) for t in taken])
        taken.append(lane.sql(c))
        aggregates += [count(cond), count(sa.and_(cond, earlier))]
    groups = (c.service, c.window, c.priority)
    waiting = (c.hall == _B("hall"), c.day == _B("day"), c.status == TicketStatus.WAITING.value, c.id != tid)
    services = _B("services", expanding=True)
    by_service = sa.select(*groups, *aggregates).where(*waiting, c.service.in_(services)).group_by(*groups)
    # tickets sent to one of the windows although its services do not include theirs
    sent = (sa.select(*groups, *aggregates)
            .where(*waiting, c.window.in_(_B("numbers", expanding=True)), c.service.not_in(services))
            .group_by(*groups))
    return sa.union_all(by_service, sent)


def window_counts(groups: Sequence[Sequence], windows: Sequence[Window], ordering: Ordering,
                  my_lane: int | None) -> list[Counts]:
    """Each window's ``Counts`` from the rows of ``ahead_statement`` (``my_lane``: the ticket's front lane)."""
    out = []
    for w in windows:
        use_priority = ordering.uses_priority(w)
        c = Counts()
        for service, number, priority, total, earlier, *lanes in groups:
            if not (number == w.number if number is not None else service in w.services):
                continue  # the same test as kiosk.ordering.serves
            total, earlier = int(total), int(earlier or 0)
            lanes = [int(v or 0) for v in lanes]
            for i in range(0, len(lanes), 2):
                in_lane, in_lane_earlier = lanes[i], lanes[i + 1]
                total, earlier = total - in_lane, earlier - in_lane_earlier
                if i // 2 == ordering.mixed:  # the interleaved lane
                    c.mixed_total += in_lane
                    c.mixed_before += in_lane_earlier
                    continue
                c.front_total += in_lane
                if my_lane is not None:
                    c.front_before += in_lane if i // 2 < my_lane else in_lane_earlier if i // 2 == my_lane else 0
            if use_priority and priority is not None:
                c.p_total += total
                c.p_before += earlier
            else:
                c.n_total += total
                c.n_before += earlier
        out.append(c)
    return out
