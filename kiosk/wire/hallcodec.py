"""A hall as plain JSON in the hall file's own shape, so ``kiosk.hall_file.hall_from_dict``
validates what a terminal pulls from its server exactly as it validates a hall file."""

from __future__ import annotations

from kiosk.domain import Hall, Service


def _service(s: Service) -> dict:
    out = {"code": s.code, "name": s.name, "prefix": s.prefix, "range": [s.range_start, s.range_end],
           "daily_cap": s.daily_cap or 0, "hours": s.hours_text(), "icon": s.icon,
           "average_minutes": float(s.average_minutes or 0), "enabled": s.enabled,
           "description": s.description, "observe_holidays": s.observe_holidays}
    if s.closed_weekdays is not None:
        out["closed_weekdays"] = sorted(s.closed_weekdays)
    return out


def hall_to_dict(hall: Hall) -> dict:
    return {
        "hall": {"name": hall.name, "code": hall.code, "timezone": hall.timezone,
                 "closed_weekdays": sorted(hall.closed_weekdays),
                 "closed_dates": sorted(d.isoformat() for d in hall.closed_dates),
                 "open_dates": sorted(d.isoformat() for d in hall.open_dates),
                 "default_service_minutes": float(hall.default_service_minutes),
                 "green_channel": hall.green_channel, "walk_in_ratings": hall.walk_in_ratings,
                 "public_url": hall.public_url},
        "priority": {"rule": hall.priority_rule.mode, "max_in_a_row": hall.priority_rule.max_in_a_row},
        "priority_groups": [{"code": g.code, "name": g.name, "icon": g.icon} for g in hall.priority_groups],
        "services": [_service(s) for s in hall.services],
        "windows": [{"number": w.number, "name": w.name, "services": list(w.services),
                     "green_channel": w.green_channel} for w in hall.windows],
        "rating_reasons": [{"code": c, "name": n} for c, n in hall.rating_reasons],
    }
