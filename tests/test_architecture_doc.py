"""docs/ARCHITECTURE.md stays true: every path, symbol and test it names exists, and its list of
layering deviations is exactly the set of imports that break the layering today (no Kivy here)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests import import_graph

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
TOPS = ("kiosk", "devices", "screens", "server", "wiring", "assets", "config", "tests", "bench", "deploy", "scripts", "docs")
CODE = import_graph.PACKAGES  # what may import what: tests/import_graph.py::ALLOWED
TICK = re.compile(r"`([^`]+)`")


def doc_text() -> str:
    """The doc without its fenced blocks (their ``` would pair the inline backticks wrongly)."""
    return re.sub(r"^```.*?^```$", "", DOC.read_text(encoding="utf-8"), flags=re.M | re.S)


def tree(path: Path) -> ast.Module:
    return import_graph.parse(path)  # parsed once, shared with the import scans


def defines(body: list[ast.stmt], name: str) -> ast.stmt | None:
    for node in body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return node
    return None


def resolves(path: Path, dotted: str) -> bool:
    body = tree(path).body
    node = None
    for part in dotted.split("."):
        node = defines(body, part)
        if node is None:
            return False
        body = getattr(node, "body", [])
    return True


def code_files() -> list[Path]:
    return sorted(p for top in CODE for p in (ROOT / top).rglob("*.py"))


def first_definitions(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    """Each name ``body`` defines, with the node ``defines`` finds for it (the first)."""
    found: dict[str, ast.stmt] = {}
    for node in body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(t, ast.Name):
                    found.setdefault(t.id, node)
    return found


def defined_names(path: Path) -> set[str]:
    """What ``resolves(path, name)`` finds for a ``Name`` or ``Name.member``, in one pass over the file."""
    names = set()
    for name, node in first_definitions(tree(path).body).items():
        names.add(name)
        names.update(f"{name}.{member}" for member in first_definitions(getattr(node, "body", [])))
    return names


def test_every_named_path_and_symbol_exists():
    missing = []
    for token in TICK.findall(doc_text()):
        path, _, symbol = token.partition("::")
        if not path.startswith(tuple(t + "/" for t in TOPS)) or " " in path:
            continue
        target = ROOT / path
        if "*" in path:
            if not list(ROOT.glob(path)):
                missing.append(f"{token}: matches no file")
            continue
        if not target.exists():
            missing.append(f"{token}: no such path")
        elif symbol and not resolves(target, symbol):
            missing.append(f"{token}: {symbol} is not defined in {path}")
    assert not missing, "docs/ARCHITECTURE.md names what is gone:\n" + "\n".join(missing)


def test_every_bare_class_or_constant_named_exists():
    """`Class`, `Class.method` and `CONSTANT` without a path must be defined somewhere in the code."""
    names = {t for t in TICK.findall(doc_text()) if re.fullmatch(r"[A-Z][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", t)}
    assert names, "the check found nothing to check"
    defined = set().union(*(defined_names(p) for p in code_files()))  # one pass per file, not per name
    missing = [n for n in sorted(names) if n not in defined]
    assert not missing, f"docs/ARCHITECTURE.md names classes or constants that are gone: {missing}"


def imported_modules(path: Path) -> set[str]:
    return import_graph.imported_modules(path, ROOT)


def layering_breaks() -> set[tuple[str, str]]:
    return import_graph.layering_breaks(ROOT)


def listed_deviations() -> set[tuple[str, str]]:
    lines = doc_text().split("### Known deviations", 1)[1].splitlines()
    listed, in_table = set(), False
    for line in lines:
        if not line.startswith("|"):
            if in_table:
                break  # the end of the table
            continue
        in_table = True
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        importer = TICK.findall(cells[0])[0]
        listed.update((importer, mod) for mod in TICK.findall(cells[1]))
    return listed


def test_known_deviations_are_exactly_the_imports_that_break_the_layering():
    actual, listed = layering_breaks(), listed_deviations()  # both empty once nothing breaks the layering
    new = sorted(actual - listed)
    gone = sorted(listed - actual)
    assert not new, f"imports that break the layering and are not listed in docs/ARCHITECTURE.md: {new}"
    assert not gone, f"docs/ARCHITECTURE.md lists deviations that no longer exist (remove them): {gone}"


def test_the_import_scan_sees_late_and_submodule_imports(tmp_path):
    """The scan is not blind: imports inside functions count, and `from pkg import module` names the module."""
    src = tmp_path / "sample.py"
    src.write_text("from devices.printer import Printer\nfrom server import main\nimport kivy.app\n"
                   "def f():\n    from screens.dispenser.grid import GridScreen\n", encoding="utf-8")
    assert imported_modules(src) == {"devices.printer", "server.main", "kivy.app", "screens.dispenser.grid"}


def test_readme_and_contracts_link_here():
    assert "(docs/ARCHITECTURE.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(ARCHITECTURE.md)" in (ROOT / "docs" / "CONTRACTS.md").read_text(encoding="utf-8")


def test_the_server_imports_nothing_from_the_terminals_sync_client():
    """Wire formats both sides use live in kiosk/wire/; the server never reaches into kiosk/sync/."""
    server_files = sorted((ROOT / "server").rglob("*.py"))
    assert any("kiosk.wire.guidefiles" in imported_modules(p) for p in server_files), "the scan found no wire import"
    found = sorted((p.relative_to(ROOT).as_posix(), mod) for p in server_files for mod in imported_modules(p)
                   if mod == "kiosk.sync" or mod.startswith("kiosk.sync."))
    assert not found, f"server modules import the terminal's sync client: {found}"
