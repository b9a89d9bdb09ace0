"""Which screens a terminal's mode shows, which of them wait until first shown, and which one every
flow returns to.

dispenser: attract, grid, priority, ticket and check-in; evaluator: its own screens;
inquiry: the inquiry screens; combined: inquiry plus the dispenser's without attract.
The staff screens (PIN, settings, maintenance) are added by ``wiring/app.py`` for every mode.
Only the home screen is built before the first frame; the screens of every visitor's way (the
dispenser's grid and ticket, the green-channel question when the hall has one) are built right after
it, and a screen a visitor may never see (预约取号's keypad, the green-channel question when the hall
has no green channel) on first show (``screens/lazy_screens.py``): each costs memory and start time.
"""

from __future__ import annotations

from typing import Callable


def home_screen(mode: str) -> str:
    """The screen every flow returns to: attract for a dispenser, the inquiry home else."""
    return {"dispenser": "attract", "evaluator": "evaluator"}.get(mode, "inquiry")


def mode_screens(terminal) -> tuple[list, dict[str, Callable], tuple[str, ...]]:
    """New screen widgets for ``terminal``'s mode, the factories of the others by name, and which of
    those to build right after the first frame (the rest wait until first shown). Kivy must be set
    up: ``wiring.kivy_setup``."""
    mode = terminal.config.mode
    screens: list = []
    lazy: dict[str, Callable] = {}
    if mode == "evaluator":
        from screens.evaluator import evaluator_screens

        return evaluator_screens(terminal), lazy, ()
    if mode in ("inquiry", "combined"):
        from screens.inquiry import inquiry_screens

        screens += inquiry_screens(terminal)
    if mode == "dispenser":
        from screens.dispenser.attract import AttractScreen

        screens.append(AttractScreen(terminal, name="attract"))
    soon: tuple[str, ...] = ()
    if mode in ("dispenser", "combined"):
        lazy.update(grid=lambda: _grid(terminal), ticket=lambda: _ticket(terminal),
                    priority=lambda: _priority(terminal), checkin=lambda: _checkin(terminal))
        # asked on every tap when the hall has a green channel: ready before the first visitor
        soon = ("grid", "ticket", "priority") if terminal.hall.green_channel else ("grid", "ticket")
    return screens, lazy, soon


def _grid(terminal):
    from screens.dispenser.grid import GridScreen

    return GridScreen(terminal, name="grid")


def _ticket(terminal):
    from screens.dispenser.ticket import TicketScreen

    return TicketScreen(terminal, name="ticket")


def _priority(terminal):
    from screens.dispenser.priority import PriorityScreen

    return PriorityScreen(terminal, name="priority")


def _checkin(terminal):
    from screens.checkin import CheckinScreen

    return CheckinScreen(terminal, name="checkin")
