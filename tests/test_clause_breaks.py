"""Short visitor messages wrap between clauses (screens/widgets/basic.py::clauses), not inside one.

The paused banner in large portrait used to read "暂停取号，请联系工作人" / "员", and the failed-print
line split “重新打印” after its first character. A run between empty [b][/b] pairs is what Kivy keeps
whole on a line, so the runs are the places a line may break.
"""

from __future__ import annotations

import pytest

from kiosk.ticket_view import PAUSED_MESSAGE


def runs(markup: str) -> list[str]:
    return markup.split("[b][/b]")


@pytest.fixture(scope="module")
def clauses():
    from screens.widgets.basic import clauses

    return clauses


def test_the_paused_banner_breaks_only_after_its_comma(clauses):
    assert runs(clauses(PAUSED_MESSAGE)) == ["暂停取号，", "请联系工作人员"]


def test_a_quoted_key_name_stays_whole_and_a_mark_after_it_stays_on_its_line(clauses):
    assert runs(clauses("小票打印失败，请记住您的号码或点“重新打印”")) == ["小票打印失败，", "请记住您的号码或点", "“重新打印”"]
    assert runs(clauses("点“重新打印”，再试")) == ["点", "“重新打印”，", "再试"]


def test_text_is_kept_and_markup_escaped(clauses):
    text = "请到[1]号窗口；谢谢！"
    markup = clauses(text)
    assert "".join(runs(markup)).replace("&bl;", "[").replace("&br;", "]") == text
    assert runs(markup)[0] == "请到&bl;1&br;号窗口；"
