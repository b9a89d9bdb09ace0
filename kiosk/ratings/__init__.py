"""Satisfaction ratings (好差评) and the follow-up of bad ones (整改/回访).

No Kivy, no web framework: the evaluator terminal uses this in embedded mode
(its own SQLite file) and the hall server uses it on its database. One job
per module:

- ``model``: the scale, ``Rating``, ``FollowUp``, validation, the API body;
- ``workdays``: working days on the hall calendar;
- ``stats``: the 满意率 arithmetic;
- ``tables``: the tables (migration component ``ratings``) and row mapping;
- ``store``: ``RatingStore`` (exactly-once storage, queries, follow-up steps);
- ``followup``: the rule that a bad rating opens a follow-up (``record_rating``);
- ``verification``: 核实, a supervisor's verdict on a bad rating (a rejected one leaves 满意率).

The names below are re-exported for callers that import ``kiosk.ratings``.
"""

from .followup import followup_due, record_rating
from .model import (BAD_LEVELS, CLOSED_STATES, DEFAULT_FOLLOWUP_DAYS, FOLLOWUP_STATE_NAMES, FOLLOWUP_STATES, LEVELS, PHONE_RE,
                    SATISFIED_LEVELS, UNRATED_NAME, FollowUp, Rating, RatingError, api_body, make_rating,
                    validate_rating)
from .stats import empty_stats, stats_from_counts
from .store import RatingStore
from .tables import RATING_MIGRATIONS
from .workdays import add_working_days

__all__ = ["CLOSED_STATES", "LEVELS", "BAD_LEVELS", "SATISFIED_LEVELS", "UNRATED_NAME", "PHONE_RE", "DEFAULT_FOLLOWUP_DAYS",
           "FOLLOWUP_STATES", "FOLLOWUP_STATE_NAMES", "Rating", "FollowUp", "RatingError", "RatingStore",
           "RATING_MIGRATIONS", "validate_rating", "make_rating", "api_body", "add_working_days", "stats_from_counts",
           "empty_stats", "followup_due", "record_rating"]
