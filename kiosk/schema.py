"""A small declarative checker for TOML tables that reports every error with its path.

Each table is described by a dict of ``Field``; ``check_table`` returns a cleaned
dict (defaults filled in) and appends ``(path, message)`` pairs for each problem:
unknown keys, missing required keys, wrong types and failed checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "a list", dict: "a table"}

Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class Field:
    type: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    check: Callable[[Any], str | None] | None = None  # returns an error message or None
    items: type | None = None  # element type for lists


def _type_ok(value: Any, expected: type | tuple[type, ...]) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool):  # bool is an int in Python; TOML keeps them apart
        return bool in types
    if float in types and isinstance(value, int):
        return True
    return isinstance(value, types)


def _type_name(expected: type | tuple[type, ...]) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def check_table(table: Any, spec: dict[str, Field], path: str, problems: Problems) -> dict:
    if not isinstance(table, dict):
        problems.append((path, "must be a table"))
        return {k: f.default for k, f in spec.items()}
    out: dict = {}
    for key in table:
        if key not in spec:
            known = ", ".join(sorted(spec))
            problems.append((f"{path}.{key}" if path else key, f"unknown field (known: {known})"))
    for key, field in spec.items():
        where = f"{path}.{key}" if path else key
        if key not in table:
            if field.required:
                problems.append((where, "is required"))
            out[key] = field.default
            continue
        value = table[key]
        if not _type_ok(value, field.type):
            problems.append((where, f"must be {_type_name(field.type)}, not {value!r}"))
            out[key] = field.default
            continue
        if field.items is not None and isinstance(value, list):
            bad = [i for i, v in enumerate(value) if not _type_ok(v, field.items)]
            if bad:
                problems.append((f"{where}[{bad[0]}]", f"must be {_type_name(field.items)}"))
                out[key] = field.default
                continue
        if field.type is float and isinstance(value, int):
            value = float(value)
        if field.check is not None:
            message = field.check(value)
            if message:
                problems.append((where, message))
                out[key] = field.default
                continue
        out[key] = value
    return out


def one_of(*choices: Any) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value not in choices:
            return "must be one of " + ", ".join(repr(c) for c in choices)
        return None

    return check


def between(low: float, high: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not low <= value <= high:
            return f"must be between {low:g} and {high:g}"
        return None

    return check
