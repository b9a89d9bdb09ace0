"""The guide's actions flow into the fewest rows their widths allow (``GuideScreen._rows``), spread as
evenly as they go, the navigation (返回, 首页) on a row of its own where the count of rows allows it.
On an 800x1280 panel in large type the even split (2 + 2 + 1) did not fit, so each action took a row of
its own: five rows of buttons left the guide's text a strip under the title."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ui


class Action:
    def __init__(self, name: str, width: float):
        self.name, self.width = name, width

    def natural_width(self) -> float:
        return self.width


def rows(widths: dict[str, float], room: float, gap: float = 18, split: int = 3) -> list[list[str]]:
    from screens.inquiry.guide import GuideScreen

    buttons = [Action(n, w) for n, w in widths.items()]
    return [[b.name for b in row] for row in GuideScreen._rows(buttons, room, gap, split=split)]


# natural widths at 800x1280, large type (px): 打印一次性告知单 takes nearly the whole row
NARROW = {"print": 560, "ticket": 330, "read": 220, "back": 220, "home": 220}


def test_a_narrow_screen_packs_the_actions_in_three_rows_not_five():
    assert rows(NARROW, room=736) == [["print"], ["ticket", "read"], ["back", "home"]]


def test_a_wide_screen_keeps_one_row_and_a_middle_one_three_and_two():
    assert rows(NARROW, room=1856) == [["print", "ticket", "read", "back", "home"]]
    assert rows(NARROW, room=1150) == [["print", "ticket", "read"], ["back", "home"]]


def test_a_button_wider_than_the_room_gets_a_row_of_its_own_and_none_is_lost():
    assert rows({"print": 900, "ticket": 330, "back": 220}, room=736, split=2) == [["print"], ["ticket"], ["back"]]
    assert rows({}, room=736, split=0) == []
