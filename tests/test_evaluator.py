"""The evaluator: its session rules, and the screens driven by real events and taps."""

from __future__ import annotations

import pytest

from kiosk.evaluator import EvaluatorSession

from .conftest import FakeClock


class Recorder:
    def __init__(self):
        self.stored = []

    def __call__(self, prompt):
        self.stored.append((prompt.ticket_number, prompt.level, tuple(prompt.reasons), prompt.phone))


@pytest.fixture
def session():
    clock = FakeClock(1000.0)
    rec = Recorder()
    s = EvaluatorSession(2, rec, timeout_s=30, clock=clock)
    return s, rec, clock


def test_good_rating_in_one_tap(session):
    s, rec, clock = session
    assert s.ticket_finished("t1", "B001", "medical")
    assert s.choose(5)
    assert rec.stored == [("B001", 5, (), "")] and s.state == "thanks"
    clock.advance(3.1)
    s.tick()
    assert s.state == "idle"


def test_no_answer_is_unrated_never_satisfied(session):
    s, rec, clock = session
    s.ticket_finished("t1", "B001")
    clock.advance(29.9)
    s.tick()
    assert rec.stored == [] and s.state == "rating"
    clock.advance(0.2)
    s.tick()
    assert rec.stored == [("B001", None, (), "")] and s.state == "idle"


def test_second_press_within_a_second_is_ignored_and_one_rating_per_ticket(session):
    s, rec, clock = session
    s.ticket_finished("t1", "B001")
    assert s.choose(4)
    assert not s.choose(1)  # the same finger again, 0 s later
    clock.advance(5)
    s.tick()
    assert not s.ticket_finished("t1", "B001")  # the same ticket again: no second prompt
    assert rec.stored == [("B001", 4, (), "")]


def test_bad_rating_in_three_presses_level_reason_submit(session):
    s, rec, clock = session
    s.ticket_finished("t9", "B009")
    assert s.choose(2) and s.state == "reasons"
    s.toggle_reason("slow")
    assert s.reasons_done() and s.state == "thanks"  # 提交: stored, no phone step in between
    assert rec.stored == [("B009", 2, ("slow",), "")]


def test_bad_rating_needs_a_reason_then_optional_phone(session):
    s, rec, clock = session
    s.ticket_finished("t2", "B002")
    assert s.choose(1) and s.state == "reasons"
    assert not s.reasons_done() and not s.want_phone()  # no reason chosen yet
    s.toggle_reason("slow")
    s.toggle_reason("attitude")
    s.toggle_reason("slow")  # changed their mind
    assert s.want_phone() and s.state == "phone"
    assert s.phone_done(skip=True) and s.state == "reasons"  # 返回: back, nothing stored
    assert rec.stored == []
    assert s.want_phone()
    for d in "1234567890":
        s.type_phone(d)
    assert not s.phone_done()  # 10 digits starting 12: not a mobile number
    s.erase_phone()
    s.prompt.phone = ""
    for d in "13912345678":
        s.type_phone(d)
    assert s.phone_done()
    assert rec.stored == [("B002", 1, ("attitude",), "13912345678")]


def test_timeout_while_typing_phone_keeps_level_and_reasons(session):
    s, rec, clock = session
    s.ticket_finished("t3", "B003")
    s.choose(2)
    s.toggle_reason("fees")
    s.want_phone()
    s.type_phone("1")
    clock.advance(31)
    s.tick()
    assert rec.stored == [("B003", 2, ("fees",), "")]


def test_keypad_digits_map_to_levels(session):
    s, rec, clock = session
    s.ticket_finished("t4", "B004")
    assert not s.key("9")
    assert s.key("1")  # the leftmost key: 非常满意
    assert rec.stored == [("B004", 5, (), "")]


def test_next_ticket_while_prompting_stores_previous_as_unrated(session):
    s, rec, clock = session
    s.ticket_finished("t5", "B005")
    s.ticket_finished("t6", "B006")
    assert rec.stored == [("B005", None, (), "")] and s.prompt.ticket_number == "B006"


# ------------------------------------------------------------------- screens

def test_an_evaluator_without_server_opens_the_follow_up_of_a_bad_rating(terminal_factory):
    """The embedded path (``Terminal.local_ratings``) applies the same follow-up rule as the server."""
    from kiosk.evaluator import Prompt
    from kiosk.ratings.workdays import add_working_days

    term = terminal_factory()
    term.config.mode, term.config.window = "evaluator", 2
    term.submit_rating(Prompt(key="k-bad", ticket_id=None, ticket_number=None, service=None, level=1,
                              reasons=["not-told-once"]))
    term.submit_rating(Prompt(key="k-good", ticket_id=None, ticket_number=None, service=None, level=5))
    term.submit_rating(Prompt(key="k-bad", ticket_id=None, ticket_number=None, service=None, level=1,
                              reasons=["not-told-once"]))  # the same visit again: no second case
    store = term.local_ratings()
    cases = store.followups()
    assert [(c.rating.key, c.rating.level, c.state) for c in cases] == [("k-bad", 1, "open")]
    rated_on = store.local_day(cases[0].rating.created_at)
    assert cases[0].due_date == add_working_days(rated_on, store.followup_days(), term.hall) > rated_on


@pytest.fixture
def evaluator_ui(terminal_factory, harness_factory):
    def make(size=(1920, 1080)):
        term = terminal_factory()
        term.config.mode, term.config.window = "evaluator", 2
        return harness_factory(term, size)

    return make


@pytest.mark.ui
def test_finishing_a_ticket_prompts_and_a_bad_rating_is_stored(evaluator_ui, tmp_path):
    h = evaluator_ui()
    term = h.app.terminal
    engine = term.backend
    assert h.sm.current == "evaluator"
    h.keep("evaluator-idle")
    engine.issue("medical")
    engine.call_next(2)
    engine.finish(2)  # the window presses 办结: the engine's event reaches the evaluator
    assert h.wait(lambda: h.sm.current == "rate", timeout=3)
    rate = h.sm.get_screen("rate")
    assert "B001" in rate.title.text
    h.keep("evaluator-rate")
    h.tap(rate.buttons[2])
    assert h.sm.current == "reasons"
    reasons = h.sm.get_screen("reasons")
    h.tap(reasons.next)
    assert reasons.message.text == "请至少选择一项原因"
    h.tap(reasons.toggles["not-told-once"])
    assert reasons.toggles["not-told-once"].text.startswith("✓")
    h.tap(reasons.next)  # 提交: level, reason, submit = 3 taps
    assert h.sm.current == "thanks"
    stored = term.local_ratings().list()
    assert [(r.ticket_number, r.level, r.reasons, r.window, r.service) for r in stored] == \
        [("B001", 2, ("not-told-once",), 2, "medical")]


@pytest.mark.ui
def test_phone_is_an_optional_button_on_the_reasons_screen(evaluator_ui):
    h = evaluator_ui()
    session = h.app.evaluator_session
    session.ticket_finished("t-phone", "A005", "labor")
    h.sm.get_screen("evaluator").sync()
    h.pump(3)
    h.tap(h.sm.get_screen("rate").buttons[1])
    assert h.sm.current == "reasons"
    reasons = h.sm.get_screen("reasons")
    h.tap(reasons.toggles["slow"])
    h.tap(reasons.phone)
    assert h.sm.current == "phone"
    phone = h.sm.get_screen("phone")
    keys = {w.text: w for w in phone.pad.children if getattr(w, "text", "")}
    for digit in "13912345678":
        h.tap(keys[digit])
    confirm = next(w for w in phone.walk() if getattr(w, "text", "") == "确定提交")
    h.tap(confirm)
    assert h.sm.current == "thanks"
    stored = h.app.terminal.local_ratings().list()
    assert [(r.level, r.reasons, r.phone) for r in stored] == [(1, ("slow",), "13912345678")]


@pytest.mark.ui
def test_ticket_at_another_window_does_not_prompt(evaluator_ui):
    h = evaluator_ui()
    engine = h.app.terminal.backend
    engine.issue("family")
    engine.call_next(3)
    engine.finish(3)
    h.wait(lambda: False, timeout=0.6)
    assert h.sm.current == "evaluator"


@pytest.mark.ui
def test_walk_in_and_keypad(evaluator_ui):
    h = evaluator_ui()
    idle = h.sm.get_screen("evaluator")
    h.tap(idle.walk_in)
    assert h.sm.current == "rate"
    assert h.app._on_keyboard(h.window, 50, 0, "2") is True  # USB keypad types "2": 满意
    assert h.sm.current == "thanks"
    stored = h.app.terminal.local_ratings().list()
    assert [(r.level, r.walk_in, r.ticket_id) for r in stored] == [(4, True, None)]


@pytest.mark.ui
@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)], ids=["landscape", "portrait"])
def test_evaluator_screens_render_big(evaluator_ui, tmp_path, size):
    from kivy.uix.label import Label

    from screens.widgets import BigButton

    h = evaluator_ui(size)
    session = h.app.evaluator_session
    session.ticket_finished("x", "A009", "labor")
    for name, step in (("rate", None), ("reasons", lambda: session.choose(1)),
                       ("phone", lambda: (session.toggle_reason("slow"), session.want_phone())),
                       ("reasons", lambda: session.phone_done(skip=True)),
                       ("thanks", lambda: session.reasons_done())):
        if step:
            h.app.evaluator_session._last_press = -1e9
            step()
        h.sm.get_screen("evaluator").sync()
        h.settle(5)
        assert h.sm.current == name
        h.keep(f"evaluator-{name}-{size[0]}x{size[1]}")
        for w in h.sm.current_screen.walk(restrict=True):
            if w.opacity == 0 or w.width <= 0:
                continue
            if isinstance(w, Label) and w.text:
                assert w.font_size >= 32, (name, w.text)
            if isinstance(w, BigButton):
                assert w.width >= 120 and w.height >= 120, (name, w.text, w.size)


@pytest.mark.ui
def test_a_short_landscape_puts_phone_and_submit_beside_the_reasons(terminal_factory, harness_factory):
    """1024x768 in large type: under 留下电话 / 提交 the rows of reasons were 85 px, a ticked 未一次性告知/多次跑
    needed two lines (108 px) and 其他 ran under 留下电话. There the two go in a column beside the reasons;
    at full HD they stay under them."""
    term = terminal_factory()
    term.config.mode, term.config.window, term.config.font_scale = "evaluator", 2, "large"
    h = harness_factory(term, (1024, 768))
    session = h.app.evaluator_session
    session.ticket_finished("t-short", "A006", "labor")
    h.sm.get_screen("evaluator").sync()
    h.pump(3)
    h.tap(h.sm.get_screen("rate").buttons[1])
    reasons = h.sm.get_screen("reasons")
    toggle = reasons.toggles["not-told-once"]
    h.tap(toggle)
    h.settle(3)
    view = reasons.view
    assert view.side
    assert reasons.next.x > max(t.right for t in reasons.toggles.values())  # beside, not under
    assert reasons.phone.x > max(t.right for t in reasons.toggles.values())
    assert toggle.text.startswith("✓")
    assert toggle.texture_size[1] <= toggle.height  # the ticked reason's two lines fit its key
    h.tap(reasons.next)
    assert h.sm.current == "thanks"
    assert [(r.level, r.reasons) for r in term.local_ratings().list()] == [(1, ("not-told-once",))]
    h.window.size = (1920, 1080)
    h.settle(3)
    reasons = h.sm.get_screen("reasons")
    h.sm.current = "reasons"
    h.settle(3)
    assert not reasons.view.side
    assert reasons.next.top < min(t.y for t in reasons.toggles.values())  # under the reasons again
