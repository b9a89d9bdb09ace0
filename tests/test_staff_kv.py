"""The evaluator's and the staff screens keep their static layout in .kv (issue 11; 59 add_widget calls
before, 7 after): Python only builds what comes from data.

Every ``add_widget`` call in ``screens/evaluator/*.py`` and ``screens/settings/*.py`` must sit in a
function listed below, with at most the listed number of calls; a new one fails until it is moved to
the module's .kv file or, if it really builds from data, listed here with its reason.
"""

from __future__ import annotations

from pathlib import Path

from .kv_layout import add_widget_calls

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("evaluator", "settings")

# (package/module, function): (most add_widget calls, why it is not static layout)
ALLOWED = {
    ("evaluator/common", "EvaluatorScreen.__init__"): (1, "the screen's view (its .kv rule) into the body"),
    ("evaluator/rate", "RateScreen.__init__"): (1, "the levels (kiosk.ratings.model.LEVELS), coloured per palette"),
    ("evaluator/reasons", "ReasonsScreen.__init__"): (1, "the hall's reasons for a bad rating"),
    ("settings/staff", "StaffScreen.__init__"): (2, "the view into the page (staff.kv), the page into the screen"),
    ("settings/controls", "SettingRow.add_widget"): (1, "the row's own add_widget, which fits its height"),
    ("settings/controls", "Choice._build"): (1, "a choice's options (the serial ports are found at run time)"),
}


def test_add_widget_only_where_data_builds_the_screen():
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / "screens" / package).glob("*.py")):
            for function, n in add_widget_calls(path).items():
                found[(f"{package}/{path.stem}", function)] = n
    unlisted = {k: n for k, n in found.items() if k not in ALLOWED}
    assert not unlisted, f"static layout belongs in the module's .kv file: {unlisted}"
    over = {k: (n, ALLOWED[k][0]) for k, n in found.items() if n > ALLOWED[k][0]}
    assert not over, f"more add_widget calls than listed (found, allowed): {over}"
    assert sum(found.values()) <= 7


def test_each_screen_module_has_its_kv_beside_it():
    for package in PACKAGES:
        for path in (ROOT / "screens" / package).glob("*.py"):
            if "Builder.load_file" in path.read_text(encoding="utf-8"):
                assert path.with_suffix(".kv").exists(), path
    loaded = [p.stem for package in PACKAGES for p in (ROOT / "screens" / package).glob("*.kv")]
    assert sorted(loaded) == sorted(["common", "idle", "rate", "reasons", "phone", "thanks", "staff", "pin", "controls", "form"])
