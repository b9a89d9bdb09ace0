"""感谢您的评价, and what happens next. Static layout in thanks.kv."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from .common import EvaluatorScreen, EvaluatorView

Builder.load_file(str(Path(__file__).with_name("thanks.kv")))


class ThanksView(EvaluatorView):
    detail = StringProperty("")


class ThanksScreen(EvaluatorScreen):
    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, ThanksView(), **kw)

    def refresh(self) -> None:
        prompt = self.session.prompt
        if prompt is not None and prompt.level in (1, 2):
            self.view.detail = "我们会认真整改" + ("，并尽快与您联系" if prompt.phone else "")
        else:
            self.view.detail = "欢迎再次光临"
