"""The evaluator terminal's side of the facade: storing a finished rating and the window's duty.

A rating goes through the hall-server backend when the terminal has one (its outbox),
else into this terminal's own database, where ``kiosk.ratings.followup.record_rating``
opens a bad rating's follow-up exactly as the server does. ``window_duty`` is what the
evaluator's idle screen shows. ``kiosk.terminal.Terminal`` delegates here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ratings.store import RatingStore
    from .terminal import Terminal

log = logging.getLogger(__name__)


def submit_rating(terminal: Terminal, prompt) -> None:
    """Store a finished evaluator prompt: through the hall-server backend's outbox when
    it has one, else in the terminal's own database. Level None is an unrated visit."""
    from .ratings.followup import record_rating
    from .ratings.model import make_rating

    config = terminal.config
    rating = make_rating(terminal.hall, key=prompt.key, level=prompt.level, window=config.window,
                         reasons=prompt.reasons, phone=prompt.phone or None, ticket_id=prompt.ticket_id,
                         ticket_number=prompt.ticket_number, service=prompt.service, terminal=config.name)
    remote = getattr(terminal.backend, "submit_rating", None)
    if remote is not None:
        remote(rating)
    else:
        record_rating(terminal.local_ratings(), terminal.hall, rating)  # a bad rating opens its follow-up here too
    log.info("rating %s for %s at window %d", rating.level_name, rating.ticket_number or "walk-in", rating.window)


def local_rating_store(terminal: Terminal) -> RatingStore:
    """A rating store on the embedded queue's database (the terminal caches it)."""
    from .ratings.store import RatingStore

    return RatingStore(terminal.backend.store.engine, terminal.hall.code, terminal.hall.timezone)


def window_duty(terminal: Terminal) -> dict:
    """Who and what the evaluator's idle screen shows for its window."""
    hall, number = terminal.hall, terminal.config.window
    window = hall.window(number)
    services = [hall.service(c).name for c in (window.services if window else ()) if hall.service(c)]
    staff = None
    lookup = getattr(terminal.backend, "duty", None)
    if lookup is not None:
        try:
            staff = lookup(number)
        except Exception as exc:  # the idle screen keeps its last picture
            log.warning("duty lookup failed: %s", exc)
    return {"number": number, "name": window.name if window else "", "services": services, "staff": staff}
