"""The dispenser screens, the visitor base, the help popup and the maintenance page keep their static
layout in .kv (issue 11; 40 add_widget calls before: 30 in screens/dispenser.py, 6 in screens/base.py,
3 in screens/helpdesk.py, 1 in screens/maintenance.py).

Every ``add_widget`` call left in these modules must sit in a function listed below, with at most the
listed number of calls; a new one (static layout creeping back into Python) fails until it is moved to
the module's .kv file or, if it really builds from data or re-flows by orientation, listed here with
its reason. The counter is tests/kv_layout.py's (tests/test_inquiry_kv.py shows it can fail).
"""

from __future__ import annotations

from pathlib import Path

from .kv_layout import add_widget_calls, loads_its_kv_file

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("screens/dispenser/attract", "screens/dispenser/grid", "screens/dispenser/priority",
           "screens/dispenser/ticket", "screens/base", "screens/helpdesk", "screens/maintenance")

# (module, function): (most add_widget calls, why it is not static layout)
ALLOWED = {
    ("screens/dispenser/attract", "AttractScreen.__init__"): (2, "the page (attract.kv) into the body; the style "
                                                                 "block shared with the inquiry home"),
    ("screens/dispenser/grid", "GridScreen.__init__"): (1, "the page (grid.kv) into the body"),
    ("screens/dispenser/grid", "GridScreen._arrange"): (2, "the cards of this page (from the hall's services); "
                                                           "the 上一页/下一页 row only while there are pages"),
    ("screens/dispenser/priority", "PriorityScreen.__init__"): (2, "a card per priority group of the hall; the "
                                                                   "page (priority.kv) into the body"),
    ("screens/dispenser/ticket", "TicketScreen.__init__"): (1, "the page (ticket.kv) into the body"),
    ("screens/dispenser/ticket", "TicketScreen._arrange"): (2, "one column (portrait) or two (landscape)"),
    ("screens/dispenser/ticket", "TicketScreen._set_buttons"): (1, "再听一遍 with a voice, 重新打印 after a "
                                                                   "failed print"),
    ("screens/base", "place"): (1, "呼叫工作人员 beside the style buttons or on its own row (portrait)"),
    ("screens/maintenance", "MaintenanceScreen.__init__"): (1, "the page (maintenance.kv) into the body"),
}


def test_no_static_layout_in_python():
    found = {}
    for module in MODULES:
        for function, count in add_widget_calls(ROOT / f"{module}.py").items():
            found[(module, function)] = count
    extra = {k: v for k, v in found.items() if k not in ALLOWED or v > ALLOWED[k][0]}
    assert not extra, f"add_widget outside the data builders (move the layout to the .kv file): {extra}"
    assert sum(found.values()) <= 13  # from 40


def test_each_module_loads_its_kv_file():
    for module in MODULES:
        kv = ROOT / f"{module}.kv"
        assert kv.exists(), kv
        assert loads_its_kv_file(ROOT / f"{module}.py"), module
