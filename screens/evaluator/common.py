"""What the evaluator's screens share: the level colours, which screen shows which session state,
and the base screen that follows the session."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.evaluator import EvaluatorSession

from ..base import VisitorScreen

Builder.load_file(str(Path(__file__).with_name("common.kv")))  # EvaluatorTitle, EvaluatorMessage

# colour and face per level; white text on each is at least 7:1 (tests/test_theme.py)
LEVEL_STYLE = {
    5: ((0, 86, 0), "very_satisfied"),
    4: ((0, 92, 82), "satisfied"),
    3: ((11, 79, 156), "basic"),
    2: ((140, 56, 0), "unsatisfied"),
    1: ((160, 0, 0), "very_unsatisfied"),
}
# high contrast: darker shades, white text at least 10:1
LEVEL_CONTRAST = {5: (0, 60, 0), 4: (0, 64, 58), 3: (7, 52, 107), 2: (100, 40, 0), 1: (120, 0, 0)}
STATE_SCREENS = {"idle": "evaluator", "rating": "rate", "reasons": "reasons", "phone": "phone",
                 "thanks": "thanks"}


class EvaluatorView(BoxLayout):
    """The body of an evaluator screen, laid out by its ``.kv`` rule: ``portrait`` is kept true by
    the screen, whose methods the rule's buttons call through ``screen``."""

    portrait = BooleanProperty(False)
    screen = ObjectProperty(None, allownone=True)


class EvaluatorScreen(VisitorScreen):
    """Base: shares the session and follows its state. ``view`` is the screen's body (an
    ``EvaluatorView``)."""

    def __init__(self, terminal, session: EvaluatorSession, view: EvaluatorView, **kw):
        super().__init__(terminal, **kw)
        self.session = session
        self.view = view
        view.screen = self
        self.body.add_widget(view)
        # a touch anywhere moves the deadline on (the App's activity hook); so does 继续使用
        self.overlay.bind(on_continue=lambda *_: session.keep_alive())

    def sync(self) -> None:
        """Show the screen that matches the session's state."""
        target = STATE_SCREENS[self.session.state]
        if self.manager.current != target:
            self.manager.current = target
        self.manager.current_screen.refresh()

    def refresh(self) -> None:
        pass

    def on_size(self, *_args) -> None:
        view = getattr(self, "view", None)
        if view is not None:
            view.portrait = self.height > self.width
