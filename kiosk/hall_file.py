"""The hall file (services, windows, hours, green channel ...): load and check it with the one hall
model (``kiosk/hall_model.py::HallFile``). Every error names the file, the line and the field, and all
field errors of a file come at once, so an installer can fix a file in one pass."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from .configfile import ConfigInvalid, Problems, errors_at, problems_of, read_toml
from .domain import Hall
from .hall_model import HallFile


def is_hall_file(data: dict) -> bool:
    return "hall" in data or "services" in data or "windows" in data


def hall_problems(data: dict) -> tuple[Hall | None, Problems]:
    """The hall the data describes, or None with every problem as (field path, message)."""
    try:
        return HallFile.model_validate(data).to_hall(), []
    except ValidationError as exc:
        return None, problems_of(exc, HallFile)


def hall_from_dict(data: dict, source: Path | str = "<hall>", lines: dict[str, int] | None = None) -> Hall:
    """Build a hall from already-parsed data (e.g. pulled from a server; ``lines``: of its keys in ``source``)."""
    hall, problems = hall_problems(data)
    if problems or hall is None:
        raise ConfigInvalid(errors_at(source, lines or {}, problems))
    return hall


def load_hall(path: Path | str) -> Hall:
    path = Path(path)
    data, lines, errors = read_toml(path)
    if errors:
        raise ConfigInvalid(errors)
    return hall_from_dict(data, path, lines)
