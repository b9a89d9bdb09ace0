"""Line numbers for keys in a TOML file, so errors can name file, line and field.

tomllib gives values but no positions. This walks the text once and records the
line of every table header and ``key =`` line under its dotted path, with array
tables indexed (``services[2].prefix``). It does not need to be a full TOML
parser: the file has already parsed when it is used, and a miss falls back to
the nearest enclosing table's line.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-\.]+)\s*=""")


def key_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    in_multiline: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in raw:
                in_multiline = None
            continue
        m = _HEADER.match(raw)
        if m:
            name = ".".join(p.strip().strip("\"'") for p in m.group(2).split("."))
            if m.group(1) == "[[":
                index = counts.get(name, 0)
                counts[name] = index + 1
                table = f"{name}[{index}]"
            else:
                table = name
            lines.setdefault(table, lineno)
            continue
        m = _KEY.match(raw)
        if m:
            key = m.group(1).strip("\"'")
            path = f"{table}.{key}" if table else key
            lines.setdefault(path, lineno)
            rest = raw[m.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
    return lines


def line_of(lines: dict[str, int], path: str) -> int:
    """The line of ``path`` or of its closest enclosing table; 1 if nothing matches."""
    while path:
        if path in lines:
            return lines[path]
        shorter = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path)
        if shorter == path:
            break
        path = shorter
    return 1
