"""Reasons for a bad rating, then 提交 (the third tap); a phone number is optional.
Static layout in reasons.kv; the reasons are the hall's."""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from ..widgets import BigButton
from .common import EvaluatorScreen, EvaluatorView

Builder.load_file(str(Path(__file__).with_name("reasons.kv")))


class ReasonToggle(BigButton):
    """A reason; chosen, it is filled and ticked (so colour is not the only signal)."""

    name = StringProperty("")
    code = StringProperty("")
    chosen = BooleanProperty(False)


class ReasonsView(EvaluatorView):
    phone = StringProperty("")  # the number left, if any
    message = StringProperty("")
    side = BooleanProperty(False)  # 留下电话 and 提交 in a column beside the reasons (reasons.kv)


class ReasonsScreen(EvaluatorScreen):
    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, ReasonsView(), **kw)
        v = self.view
        self.toggles = {}
        for code, name in terminal.hall.rating_reasons:
            toggle = ReasonToggle(name=name, code=code)
            toggle.bind(on_release=lambda b: self.toggle(b.code))
            self.toggles[code] = toggle
            v.ids.grid.add_widget(toggle)
        self.phone, self.next, self.message = v.ids.phone, v.ids.next, v.ids.message
        # laid out with 留下电话 / 提交 under the reasons first; if a reason's words then do not fit its
        # key (a short landscape in large type), they go beside them (``ReasonsView.side``)
        self._check = Clock.create_trigger(self._fit_side)
        self.bind(size=self._restack)
        for toggle in self.toggles.values():
            toggle.bind(size=self._check)

    def _restack(self, *_args) -> None:
        self.view.side = False
        self._check()

    def _fit_side(self, *_args) -> None:
        v = self.view
        if v.portrait or v.side:
            return
        # a reason ticked is one "✓ " wider: measured as the key breaks its lines (its texture), ticked
        for t in self.toggles.values():
            if not t.chosen:
                t.chosen = True
                t.texture_update()
                tall = t.texture_size[1]
                t.chosen = False
                t.texture_update()
            else:
                tall = t.texture_size[1]
            if tall > t.height + 0.5:
                v.side = True
                return

    def refresh(self) -> None:
        prompt = self.session.prompt
        chosen = set(prompt.reasons) if prompt else set()
        for code, toggle in self.toggles.items():
            toggle.chosen = code in chosen
        self.view.phone = prompt.phone if prompt else ""
        self.view.message = ""

    def toggle(self, code: str) -> None:
        self.session.toggle_reason(code)
        self.refresh()

    def done(self) -> None:
        if self.session.reasons_done():
            self.sync()
        else:
            self.view.message = "请至少选择一项原因"

    def open_phone(self) -> None:
        if self.session.want_phone():
            self.sync()
        else:
            self.view.message = "请先选择不满意的原因"
