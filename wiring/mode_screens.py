"""Which screens a terminal's mode shows, and which one every flow returns to.

dispenser: attract, grid, priority, ticket and check-in; evaluator: its own screens;
inquiry: the inquiry screens; combined: inquiry plus the dispenser's without attract.
The staff screens (PIN, settings, maintenance) are added by ``wiring/app.py`` for every mode.
"""

from __future__ import annotations


def home_screen(mode: str) -> str:
    """The screen every flow returns to: attract for a dispenser, the inquiry home else."""
    return {"dispenser": "attract", "evaluator": "evaluator"}.get(mode, "inquiry")


def mode_screens(terminal) -> list:
    """New screen widgets for ``terminal``'s mode (Kivy must be set up: ``wiring.kivy_setup``)."""
    mode = terminal.config.mode
    screens = []
    if mode == "evaluator":
        from screens.evaluator import evaluator_screens

        return evaluator_screens(terminal)
    if mode in ("inquiry", "combined"):
        from screens.inquiry import inquiry_screens

        screens += inquiry_screens(terminal)
    if mode == "dispenser":
        from screens.dispenser.attract import AttractScreen

        screens.append(AttractScreen(terminal, name="attract"))
    if mode in ("dispenser", "combined"):
        from screens.checkin import checkin_screens
        from screens.dispenser.grid import GridScreen
        from screens.dispenser.priority import PriorityScreen
        from screens.dispenser.ticket import TicketScreen

        screens += [GridScreen(terminal, name="grid"),
                    PriorityScreen(terminal, name="priority"),
                    TicketScreen(terminal, name="ticket"), *checkin_screens(terminal)]
    return screens
