"""A day's bookings as CSV (the shape a provincial booking platform exports). See docs/appointments-csv.md.

Every row is checked before anything is stored; one bad row refuses the whole file, and every bad
row is named by its line. Capacity counts the file's rows together with what is already booked.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Callable

from kiosk.domain import Hall

from .rules import AppointmentError, AppointmentSettings
from .store import Booking, clean_booking

MAX_BYTES = 2_000_000
MAX_ROWS = 5000
# column -> the headers accepted for it (English, or the Chinese a platform export uses)
COLUMNS = {
    "date": ("date", "预约日期", "日期"),
    "slot": ("slot", "预约时段", "时段"),
    "service": ("service", "事项编码", "业务编码", "业务"),
    "name": ("name", "姓名"),
    "phone": ("phone", "手机号", "联系电话", "电话"),
    "id_number": ("id_number", "身份证号", "证件号码"),
    "ref": ("ref", "预约号", "预约编号"),
}
REQUIRED = ("date", "slot", "service")


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030 (what Excel in China saves)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def parse(data: bytes, hall: Hall, settings: AppointmentSettings, day: date | None = None,
          booked: Callable[[date, str], dict[str, int]] | None = None, today: date | None = None) -> tuple[list[Booking], list[int], list[RowError]]:
    """-> (bookings, their lines, errors). ``day``: every row must be that day. ``booked``: places already
    taken on a day for a service, per slot start ("09:00"), for the capacity check."""
    if len(data) > MAX_BYTES:
        return [], [], [RowError(1, "file", f"larger than {MAX_BYTES // 1_000_000} MB")]
    try:
        text = decode(data)
    except UnicodeDecodeError:
        return [], [], [RowError(1, "file", "not UTF-8 or GB18030 text")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [], [RowError(1, "file", "empty: the first line names the columns")]
    except csv.Error as exc:
        return [], [], [RowError(1, "file", f"not CSV: {exc}")]
    where: dict[str, int] = {}
    errors: list[RowError] = []
    for i, name in enumerate(h.strip() for h in header):
        col = next((c for c, names in COLUMNS.items() if name.lower() in names), None)
        if col is None:
            errors.append(RowError(1, name or f"column {i + 1}", "unknown column; known: " + ", ".join(COLUMNS)))
        elif col in where:
            errors.append(RowError(1, name, "column given twice"))
        else:
            where[col] = i
    for col in REQUIRED:
        if col not in where:
            errors.append(RowError(1, col, "missing column"))
    if errors:
        return [], [], errors
    bookings, lines = [], []
    load: Counter = Counter()
    seen: set[tuple[date, str]] = set()
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(bookings) + len(errors) >= MAX_ROWS:
                errors.append(RowError(line, "file", f"more than {MAX_ROWS} rows"))
                break
            values = {c: (row[i] if i < len(row) else "") for c, i in where.items()}
            try:
                b = clean_booking(hall, settings, values["service"], values["date"], values["slot"],
                                  values.get("name", ""), values.get("phone", ""), values.get("id_number", ""),
                                  values.get("ref", ""), today=today)
            except AppointmentError as exc:
                errors.append(RowError(line, _column(exc.field), str(exc)))
                continue
            if day is not None and b.day != day:
                errors.append(RowError(line, "date", f"{b.day} is not the day being imported ({day})"))
                continue
            if booked is not None and (b.day, b.service) not in seen:
                seen.add((b.day, b.service))
                for start, n in booked(b.day, b.service).items():
                    load[(b.day.isoformat(), b.service, start)] += n
            slot_key = (b.day.isoformat(), b.service, f"{b.slot.start:%H:%M}")
            capacity = settings.slots_of(b.service).capacity
            if load[slot_key] >= capacity:
                errors.append(RowError(line, "slot", f"{b.day} {b.slot.label} {b.service} is full "
                                                     f"({capacity} places)"))
                continue
            load[slot_key] += 1
            bookings.append(b)
            lines.append(line)
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "file", f"not CSV: {exc}"))
    if not bookings and not errors:
        errors.append(RowError(2, "file", "no bookings in the file"))
    return bookings, lines, errors


def _column(field: str) -> str:
    return {"day": "date"}.get(field, field)
