"""The evaluator's screens on one session, fed by queue events, a USB keypad and the deadline clock.

Events from the queue arrive on worker threads and are hopped onto the UI thread here.
"""

from __future__ import annotations

import math

from kivy.app import App
from kivy.clock import Clock, mainthread

from kiosk.evaluator import EvaluatorSession

from ..widgets import MIN_WARN_S, WARNING_SPEECH
from .idle import IdleScreen
from .phone import PhoneScreen
from .rate import RateScreen
from .reasons import ReasonsScreen
from .thanks import ThanksScreen


def evaluator_screens(terminal) -> list:
    """The evaluator's screens; the first, "evaluator", is its home.

    The session and its wiring (queue events, keypad, the deadline clock) are made
    once per App; screens built again (长辈模式, a new font size) reuse them.
    """
    app = App.get_running_app()
    session = getattr(app, "evaluator_session", None)
    first = session is None
    if first:
        session = EvaluatorSession(terminal.config.window, terminal.submit_rating,
                                   timeout_s=terminal.config.timeouts.rating_s)
    screens = [IdleScreen(terminal, session, name="evaluator"), RateScreen(terminal, session, name="rate"),
               ReasonsScreen(terminal, session, name="reasons"), PhoneScreen(terminal, session, name="phone"),
               ThanksScreen(terminal, session, name="thanks")]
    if not first:
        return screens

    def home():
        return app.sm.get_screen("evaluator")

    def follow(_dt) -> None:
        if app.sm is None or not app.sm.has_screen("evaluator"):
            return
        before = session.state
        session.tick()
        if session.state != before:
            home().sync()
            if session.state == "idle":
                app.end_visitor_session()
        # announce the timeout (at least 10 s) before an unanswered prompt goes back to the idle screen
        left = session.deadline - session.clock()
        warn = max(MIN_WARN_S, terminal.config.timeouts.warn_before_s)
        screen = app.sm.current_screen
        overlay = getattr(screen, "overlay", None)
        if session.state in ("rating", "reasons", "phone") and 0 < left <= warn:
            if overlay is not None and not overlay.text and terminal.voice.available:
                terminal.voice.say(WARNING_SPEECH)
            if overlay is not None:
                overlay.text = f"{math.ceil(left)} 秒后返回首页"
        elif overlay is not None and overlay.text:
            overlay.text = ""

    @mainthread
    def on_event(kind: str, data: dict) -> None:
        ticket = data.get("ticket") or {}
        if kind == "ticket_finished" and data.get("window") == terminal.config.window and ticket.get("id"):
            if session.ticket_finished(ticket["id"], ticket.get("number"), ticket.get("service")):
                home().sync()

    def on_key(codepoint: str) -> bool:
        if session.key(codepoint):
            home().sync()
            return True
        return False

    terminal.subscribe(on_event)
    app.key_handler = on_key  # USB keypads typing 1-5
    Clock.schedule_interval(follow, 0.25)
    app.evaluator_session = session
    return screens
