"""The package import graph (static, every .py of kiosk/, devices/, screens/, server/, wiring/):
no cycle between packages, and every import keeps to the may-import table (tests/import_graph.py,
the same table as docs/ARCHITECTURE.md) or is a listed known deviation there."""

from __future__ import annotations

from pathlib import Path

from tests import import_graph
from tests.test_architecture_doc import listed_deviations

ROOT = Path(__file__).resolve().parent.parent


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CLEAN = {
    "kiosk/__init__.py": "",
    "kiosk/__main__.py": "from wiring.cli import main\n",  # a program, not an edge
    "kiosk/ports.py": "import enum\nfrom typing import Protocol\n",
    "kiosk/terminal.py": "from .ports import Protocol\nfrom kiosk import ports\n",
    "devices/__init__.py": "",
    "devices/printer.py": "from kiosk.ports import Protocol\n",
    "screens/grid.py": "import kivy\nfrom kiosk.terminal import Terminal\n",
    "server/app.py": "import fastapi\nfrom kiosk import terminal\n",
    "wiring/__init__.py": "",
    "wiring/app.py": "import kivy.app\nfrom devices import printer\nfrom screens import grid\nimport server.app\n",
}


def test_a_clean_tree_has_no_breaks_and_no_cycle(tmp_path):
    root = write(tmp_path, CLEAN)
    assert import_graph.layering_breaks(root) == set()
    edges = import_graph.package_edges(root)
    assert set(edges) == {("devices", "kiosk"), ("screens", "kiosk"), ("server", "kiosk"),
                          ("wiring", "devices"), ("wiring", "screens"), ("wiring", "server")}
    assert import_graph.find_cycle(edges) is None


def test_import_devices_inside_the_core_is_caught(tmp_path):
    """The negative case: one late `import devices` in kiosk/ breaks the table and closes a cycle."""
    root = write(tmp_path, {**CLEAN, "kiosk/terminal.py": "def build():\n    import devices.printer\n"})
    assert import_graph.layering_breaks(root) == {("kiosk/terminal.py", "devices.printer")}
    cycle = import_graph.find_cycle(import_graph.package_edges(root))
    assert cycle == ["devices", "kiosk", "devices"]


def test_other_forbidden_imports_are_caught(tmp_path):
    root = write(tmp_path, {**CLEAN,
                            "server/app.py": "from screens.grid import x\n",
                            "devices/printer.py": "import kivy.core.text\nfrom wiring import app\n",
                            "kiosk/app.py": "from kivy.app import App\n"})
    assert import_graph.layering_breaks(root) == {("server/app.py", "screens.grid"), ("devices/printer.py", "kivy"),
                                                   ("devices/printer.py", "wiring.app"), ("kiosk/app.py", "kivy")}
    assert import_graph.find_cycle(import_graph.package_edges(root)) == ["devices", "wiring", "devices"]


def test_find_cycle_by_hand():
    assert import_graph.find_cycle([("a", "b"), ("b", "c")]) is None
    assert import_graph.find_cycle([("a", "b"), ("b", "c"), ("c", "a")]) == ["a", "b", "c", "a"]
    assert import_graph.find_cycle([("x", "x")]) == ["x", "x"]


def test_the_tree_keeps_to_the_table():
    breaks = import_graph.layering_breaks(ROOT)
    unlisted = sorted(breaks - listed_deviations())
    assert not unlisted, f"imports the may-import table forbids (fix them, or list them in docs/ARCHITECTURE.md): {unlisted}"


def test_no_cycle_between_packages():
    """Known deviations (each a row in docs/ARCHITECTURE.md, removed when fixed) are the only edges
    that may still close a cycle; every other import must leave the package graph acyclic."""
    edges = import_graph.package_edges(ROOT)
    assert ("devices", "kiosk") in edges and ("wiring", "kiosk") in edges, "the scan saw nothing"
    listed = listed_deviations()
    kept = {edge for edge, where in edges.items() if not where <= listed}
    cycle = import_graph.find_cycle(kept)
    assert cycle is None, (f"package import cycle {' -> '.join(cycle)}: "
                           + "; ".join(f"{a} -> {b} via {sorted(edges[(a, b)])[:3]}"
                                       for a, b in zip(cycle, cycle[1:])))


def test_the_doc_table_says_what_the_checked_table_says():
    """docs/ARCHITECTURE.md's layers table forbids (after "never" / "no") exactly what ALLOWED forbids."""
    import re

    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8").split("## Layers", 1)[1]
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`(\w+)/`.*", cells[0]) if line.startswith("|") and len(cells) == 3 else None
        if m and m.group(1) in import_graph.PACKAGES:
            rows[m.group(1)] = cells[2]
    assert set(rows) == set(import_graph.PACKAGES)
    for package, cell in rows.items():
        tail = re.split(r"\b(?:never|no)\b", cell, maxsplit=1)
        said = set(re.findall(r"`(\w+)`", tail[1])) & set(import_graph.PACKAGES) if len(tail) == 2 else set()
        expected = set(import_graph.PACKAGES) - import_graph.ALLOWED[package] - {package}
        assert said == expected, f"{package}/ row of the layers table forbids {sorted(said)}, the check {sorted(expected)}"
