"""The inquiry screens keep their static layout in .kv (issue 11; 58 add_widget calls before, 23 after):
Python only builds what comes from data.

Every ``add_widget`` call in ``screens/inquiry/*.py`` must sit in a function listed below, with at most
the listed number of calls; a new one (static layout creeping back into Python) fails until it is moved
to the module's .kv file or, if it really builds from data, listed here with its reason.
"""

from __future__ import annotations

from pathlib import Path

from .kv_layout import add_widget_calls, loads_its_kv_file

ROOT = Path(__file__).resolve().parent.parent
INQUIRY = ROOT / "screens" / "inquiry"
SCREEN_MODULES = ("common", "home", "guide", "policy", "search")

# (module, function): (most add_widget calls, why it is not static layout)
ALLOWED = {
    ("common", "list_page"): (1, "the list page (common.kv) into the screen's body"),
    ("guide", "MarkedLine.__init__"): (1, "the marker of one guide line (box, step number or dot)"),
    ("guide", "GuideScreen.__init__"): (1, "the guide page (guide.kv) into the screen's body"),
    ("guide", "GuideScreen.relayout"): (3, "the actions flowed into rows by their measured widths; 返回 / 首页 "
                                           "beside the text when the window's height holds them"),
    ("guide", "GuideScreen._place_head"): (1, "the name row above the text, or scrolling with it (landscape)"),
    ("guide", "GuideScreen.show"): (1, "the guide's sections"),
    ("guide", "GuideScreen._section"): (1, "a section's lines"),
    ("home", "InquiryHome.__init__"): (2, "the home page (home.kv) into the body; the style block shared "
                                          "with the attract screen (screens/base.py::style_buttons)"),
    ("home", "InquiryHome.fill"): (2, "the category tiles and hot items from the catalogue"),
    ("home", "InquiryHome._arrange_top"): (1, "policies and 取号 under search in portrait"),
    ("home", "CategoryScreen.show"): (1, "the category's guides"),
    ("policy", "PolicyListScreen.fill"): (2, "the policies (or the line saying there are none)"),
    ("policy", "PolicyScreen.__init__"): (1, "the policy page (policy.kv) into the screen's body"),
    ("policy", "PolicyScreen.relayout"): (2, "返回 / 首页 / 字号放大 under the pager (landscape, when the "
                                            "window's height holds them) or back in the footer"),
    ("policy", "PolicyScreen.render"): (3, "the policy's title, issuer line and paragraphs"),
    ("search", "SearchScreen.__init__"): (1, "the search page (search.kv) into the screen's body"),
    ("search", "SearchScreen._show_keyboard"): (1, "this orientation's key rows"),
    ("search", "SearchScreen._build_keyboard"): (1, "the keys of a key row"),
    ("search", "SearchScreen._show"): (1, "the result rows"),
    ("search", "SearchScreen.relayout"): (1, "查看 N 项 / 继续输入 in the top row while the keyboard and the results "
                                             "swap (a 4:3 or 5:4 landscape)"),
    ("search", "SearchScreen._place"): (1, "while they swap, the keyboard or the results (and their pager)"),
}


def test_inquiry_modules_build_no_static_layout_in_python():
    found = {}
    for module in SCREEN_MODULES:
        for function, count in add_widget_calls(INQUIRY / f"{module}.py").items():
            found[(module, function)] = count
    extra = {k: v for k, v in found.items() if k not in ALLOWED or v > ALLOWED[k][0]}
    assert not extra, f"add_widget outside the data builders (move the layout to the .kv file): {extra}"


def test_each_inquiry_screen_module_loads_its_kv_file():
    for module in SCREEN_MODULES:
        kv = INQUIRY / f"{module}.kv"
        assert kv.exists(), kv
        assert loads_its_kv_file(INQUIRY / f"{module}.py"), module


def test_the_counter_sees_calls_in_methods_and_at_module_level(tmp_path):
    """The check itself can fail: a layout call in __init__ or at module level is counted there."""
    sample = tmp_path / "sample.py"
    sample.write_text("class S:\n    def __init__(self):\n        self.body.add_widget(a)\n"
                      "        for w in ws:\n            self.body.add_widget(w)\n"
                      "def helper():\n    box.add_widget(b)\nroot.add_widget(c)\n", encoding="utf-8")
    assert add_widget_calls(sample) == {"S.__init__": 2, "helper": 1, "<module>": 1}
