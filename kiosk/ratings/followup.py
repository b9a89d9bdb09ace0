"""The rule "a bad rating opens a follow-up (整改/回访) due in N working days".

One rule for every place a rating is stored: the hall server
(``server/api_ratings.py::add_rating``) and an evaluator that keeps its ratings
in its own database (``kiosk/terminal.py::Terminal.submit_rating``). N is the
hall's ``followup_days`` setting (``RatingStore.followup_days``, default
``DEFAULT_FOLLOWUP_DAYS``), counted in the hall's working days after the
rating's local day (which itself does not count).
"""

from __future__ import annotations

from datetime import date

from ..domain import Hall
from .model import Rating
from .store import RatingStore
from .workdays import add_working_days


def followup_due(store: RatingStore, hall: Hall, rating: Rating) -> date | None:
    """The due date of the case ``rating`` opens, or None when it opens none (not a bad rating)."""
    if not rating.bad:
        return None
    return add_working_days(store.local_day(rating.created_at), store.followup_days(), hall)


def record_rating(store: RatingStore, hall: Hall, rating: Rating) -> tuple[Rating, bool]:
    """Store ``rating`` exactly once; a new bad rating opens its follow-up in the same transaction.

    Returns (stored rating, created), as ``RatingStore.add``: a repeated key or
    an already rated ticket returns the first rating and opens nothing.
    """
    return store.add(rating, followup_due=followup_due(store, hall, rating))
