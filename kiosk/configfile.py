"""What the terminal file and the hall file share: reading TOML, and errors that name file, line
and field (``file:line: field: message``, one line each), also from a pydantic model's errors.

Field paths are TOML's: ``printer.baud``, ``services[0].prefix``, ``windows[2].services[1]``;
``kiosk/tomlpos.py`` finds the line of each.
"""

from __future__ import annotations

import re
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from .tomlpos import key_lines, line_of

Problems = list[tuple[str, str]]  # (field path, message)


@dataclass(frozen=True)
class ConfigError:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ConfigInvalid(Exception):
    def __init__(self, errors: list[ConfigError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class FieldProblems(ValueError):
    """Raised by a model's cross-field check: several (path, message) pairs, each with its own path
    (pydantic keeps the exception, so ``problems_of`` can give every one its own line)."""

    def __init__(self, problems: Problems):
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems


def read_toml(path: Path) -> tuple[dict | None, dict[str, int], list[ConfigError]]:
    """(data, line of each key path, errors): a missing, unreadable or malformed file is one error."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, {}, [ConfigError(name, 0, "-", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, [ConfigError(name, 0, "-", f"cannot read: {exc}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        return None, {}, [ConfigError(name, int(m.group(1)) if m else 1, "-", f"TOML syntax error: {exc}")]
    return data, key_lines(text), []


def errors_at(path: Path | str, lines: dict[str, int], problems: Problems) -> list[ConfigError]:
    return [ConfigError(str(path), line_of(lines, p), p, msg) for p, msg in problems]


# ------------------------------------------------------------- models of TOML files

class Table(BaseModel):
    """A TOML table: unknown keys refused, no coercion ("300" is not 300, 1 is not true)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def rule(check: Callable[[Any], str | None]) -> AfterValidator:
    """A check that returns an error message (or None) as a pydantic validator."""

    def validate(value):
        message = check(value)
        if message:
            raise ValueError(message)
        return value

    return AfterValidator(validate)


def one_of(*choices: Any) -> AfterValidator:
    return rule(lambda v: None if v in choices else "must be one of " + ", ".join(repr(c) for c in choices))


def between(low: float, high: float) -> AfterValidator:
    return rule(lambda v: None if low <= v <= high else f"must be between {low:g} and {high:g}")


# ------------------------------------------------------------- pydantic errors as TOML lines

_TYPE_NAMES = {"int_type": "an integer", "float_type": "a number", "string_type": "a string",
               "bool_type": "true or false", "list_type": "a list", "dict_type": "a table",
               "model_type": "a table", "model_attributes_type": "a table", "date_type": "a date"}


def toml_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _inner(annotation):
    """The model or item type behind list[...] / X | None / Annotated[...]."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _model_at(model: type[BaseModel], loc: tuple) -> type | None:
    """The type at ``loc`` inside ``model`` (walking fields and list items)."""
    current: object = model
    for part in loc:
        current = _inner(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            if typing.get_origin(current) is not list or not args:
                return None
            current = args[0]
        elif isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            current = current.model_fields[part].annotation
        else:
            return None
    return _inner(current)


def _is_model(t) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def problems_of(exc: ValidationError, model: type[BaseModel]) -> Problems:
    """One (path, message) per error, in the words the TOML checks always used."""
    problems: Problems = []
    for e in exc.errors(include_url=False):
        loc, kind = tuple(e["loc"]), e["type"]
        path = toml_path(loc)
        error = (e.get("ctx") or {}).get("error")
        if isinstance(error, FieldProblems):
            problems.extend(error.problems)
            continue
        if kind == "value_error":
            message = str(error) if error is not None else e["msg"]
        elif kind == "missing":
            message = f"the [{path}] table is required" if len(loc) == 1 and _is_model(_model_at(model, loc)) \
                else "is required"
        elif kind == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            if len(loc) == 1 and isinstance(e["input"], dict):  # a [table] at the top of the file
                message = f"unknown section (known: {', '.join(parent.model_fields)})"
            else:
                message = f"unknown field (known: {', '.join(sorted(parent.model_fields))})"
        elif kind == "list_type" and _is_model(_model_at(model, loc + (0,))):
            message = f"must be an array of tables ([[{loc[-1]}]])"
        elif kind in _TYPE_NAMES:
            message = f"must be {_TYPE_NAMES[kind]}, not {e['input']!r}"
        else:
            message = e["msg"]
        problems.append((path, message))
    return problems
