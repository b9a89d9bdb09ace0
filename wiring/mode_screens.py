"""Which screens a terminal's mode shows, which of them wait until first shown, and which one every
flow returns to.

dispenser: attract, grid, priority, ticket and check-in; evaluator: its own screens;
inquiry: the inquiry screens; combined: inquiry plus the dispenser's without attract.
The staff screens (PIN, settings, maintenance) are added by ``wiring/app.py`` for every mode.
A screen a visitor may never see (预约取号's keypad, the green-channel question when the hall has no
green channel) is built on first show (``screens/lazy_screens.py``): it costs memory and start time.
"""

from __future__ import annotations

from typing import Callable


def home_screen(mode: str) -> str:
    """The screen every flow returns to: attract for a dispenser, the inquiry home else."""
    return {"dispenser": "attract", "evaluator": "evaluator"}.get(mode, "inquiry")


def mode_screens(terminal) -> tuple[list, dict[str, Callable]]:
    """New screen widgets for ``terminal``'s mode, and the factories of the screens built on first show,
    by name (Kivy must be set up: ``wiring.kivy_setup``)."""
    mode = terminal.config.mode
    screens: list = []
    lazy: dict[str, Callable] = {}
    if mode == "evaluator":
        from screens.evaluator import evaluator_screens

        return evaluator_screens(terminal), lazy
    if mode in ("inquiry", "combined"):
        from screens.inquiry import inquiry_screens

        screens += inquiry_screens(terminal)
    if mode == "dispenser":
        from screens.dispenser.attract import AttractScreen

        screens.append(AttractScreen(terminal, name="attract"))
    if mode in ("dispenser", "combined"):
        from screens.dispenser.grid import GridScreen
        from screens.dispenser.ticket import TicketScreen

        screens += [GridScreen(terminal, name="grid"), TicketScreen(terminal, name="ticket")]
        lazy["priority"] = lambda: _priority(terminal)
        if terminal.hall.green_channel:  # asked on every tap: ready before the first visitor
            screens.append(lazy.pop("priority")())
        lazy["checkin"] = lambda: _checkin(terminal)
    return screens, lazy


def _priority(terminal):
    from screens.dispenser.priority import PriorityScreen

    return PriorityScreen(terminal, name="priority")


def _checkin(terminal):
    from screens.checkin import CheckinScreen

    return CheckinScreen(terminal, name="checkin")
