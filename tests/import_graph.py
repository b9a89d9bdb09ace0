"""The static import graph of the product packages (ast, no imports run), shared by
tests/test_import_graph.py and tests/test_architecture_doc.py.

ALLOWED is the may-import table of docs/ARCHITECTURE.md for the packages of this tree; NO_KIVY the
packages that must not import Kivy. A ``__main__.py`` is a program (nothing can import it), so it is
no edge of the graph: ``kiosk/__main__.py`` hands ``python -m kiosk`` to ``wiring/cli/``.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGES = ("kiosk", "devices", "screens", "server", "wiring")
# importer package -> the packages of this tree it may import (besides itself)
ALLOWED = {
    "kiosk": set(),
    "devices": {"kiosk"},
    "screens": {"kiosk"},
    "server": {"kiosk"},
    "wiring": {"kiosk", "devices", "screens", "server"},
}
NO_KIVY = {"kiosk", "devices", "server"}


def parse(path: Path) -> ast.Module:
    """The file's syntax tree, parsed once per version of the file in this test process (the scans
    of this module and tests/test_architecture_doc.py read the same few hundred files)."""
    st = path.stat()
    return _parse(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=None)
def _parse(path: str, mtime_ns: int, size: int) -> ast.Module:
    return ast.parse(Path(path).read_text(encoding="utf-8"), path)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Absolute module names a file imports, anywhere in it (also inside functions); for
    ``from pkg import name`` the submodule ``pkg.name`` when it is one, else ``pkg``."""
    st = path.stat()
    return set(_imported_modules(str(path), st.st_mtime_ns, st.st_size, str(root)))


@lru_cache(maxsize=None)
def _imported_modules(path_s: str, mtime_ns: int, size: int, root_s: str) -> frozenset[str]:
    path, root = Path(path_s), Path(root_s)
    out = set()
    for node in ast.walk(_parse(path_s, mtime_ns, size)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            for a in node.names:
                sub = root / Path(*f"{base}.{a.name}".split("."))
                out.add(f"{base}.{a.name}" if sub.with_suffix(".py").exists() or sub.is_dir() else base)
    return frozenset(out)


def code_files(root: Path) -> list[Path]:
    return sorted(p for top in PACKAGES if (root / top).is_dir() for p in (root / top).rglob("*.py")
                  if p.name != "__main__.py")


def imports_by_file(root: Path) -> dict[str, set[str]]:
    return {p.relative_to(root).as_posix(): imported_modules(p, root) for p in code_files(root)}


def package_edges(root: Path) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(importer package, imported package) -> the (file, module) pairs that make the edge."""
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for rel, modules in imports_by_file(root).items():
        package = rel.split("/")[0]
        for mod in modules:
            top = mod.split(".")[0]
            if top in PACKAGES and top != package:
                edges.setdefault((package, top), set()).add((rel, mod))
    return edges


def layering_breaks(root: Path) -> set[tuple[str, str]]:
    """(file, module) for every import the may-import table forbids (Kivy as ``kivy``)."""
    found = set()
    for rel, modules in imports_by_file(root).items():
        package = rel.split("/")[0]
        for mod in modules:
            top = mod.split(".")[0]
            if top in PACKAGES and top != package and top not in ALLOWED[package]:
                found.add((rel, mod))
            elif top == "kivy" and package in NO_KIVY:
                found.add((rel, "kivy"))
    return found


def find_cycle(edges) -> list[str] | None:
    """One cycle of the directed graph given as (a, b) pairs, as [a, b, ..., a]; None if there is none."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None
