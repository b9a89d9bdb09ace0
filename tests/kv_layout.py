"""Shared by the .kv layout tests (tests/test_inquiry_kv.py, test_dispenser_kv.py, test_staff_kv.py):
the ``add_widget`` counter and the check that a screen module loads the .kv file beside it."""

from __future__ import annotations

import ast
from pathlib import Path


def add_widget_calls(path: Path) -> dict[str, int]:
    """``add_widget`` calls by enclosing function ("Class.method" or "function"; "<module>" outside any)."""
    counts: dict[str, int] = {}

    def visit(node, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, scope + [child.name])
                continue
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                    and child.func.attr == "add_widget"):
                name = ".".join(scope[-2:]) if len(scope) > 1 and scope[-2][:1].isupper() else (
                    scope[-1] if scope else "<module>")
                counts[name] = counts.get(name, 0) + 1
            visit(child, scope)

    visit(ast.parse(path.read_text(encoding="utf-8")), [])
    return counts


def loads_its_kv_file(module: Path) -> bool:
    """``module`` (a .py path) loads the .kv file of its own name beside it, the way the screens do."""
    kv = module.with_suffix(".kv")
    source = module.read_text(encoding="utf-8")
    return 'Builder.load_file(str(Path(__file__).with_name("' + kv.name + '")))' in source
