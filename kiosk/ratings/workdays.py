"""Working-day arithmetic on a hall's calendar (closed weekdays, holidays, 调休 working weekends)."""

from __future__ import annotations

from datetime import date, timedelta

from ..domain import Hall


def add_working_days(start_date: date, n: int, hall: Hall) -> date:
    """The ``n``-th working day after ``start_date`` (which itself does not count).

    Working days follow ``hall.is_working_day``: closed weekdays, closed
    dates (holidays) and open dates (调休 working weekends). ``n = 0``
    returns ``start_date``.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day, left = start_date, n
    for _ in range(3660 + 7 * n):
        if left == 0:
            return day
        day += timedelta(days=1)
        if hall.is_working_day(day):
            left -= 1
    raise ValueError("the hall calendar has no working days")
