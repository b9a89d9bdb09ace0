"""Rating statistics arithmetic: 满意率 = levels 3-5 over all rated visits (unrated excluded)."""

from __future__ import annotations

from .model import BAD_LEVELS, LEVELS, SATISFIED_LEVELS


def empty_stats() -> dict:
    return {"levels": {lv: 0 for lv in sorted(LEVELS)}, "unrated": 0, "total": 0, "satisfied": 0, "bad": 0,
            "satisfaction_rate": None}


def stats_from_counts(counts: dict[int | None, int]) -> dict:
    """Statistics from {level or None: count}: 满意率 = levels 3-5 over all rated (unrated excluded)."""
    out = empty_stats()
    for level, n in counts.items():
        if level is None:
            out["unrated"] += n
        elif level in out["levels"]:
            out["levels"][level] += n
    out["total"] = sum(out["levels"].values())
    out["satisfied"] = sum(out["levels"][lv] for lv in SATISFIED_LEVELS)
    out["bad"] = sum(out["levels"][lv] for lv in BAD_LEVELS)
    out["satisfaction_rate"] = out["satisfied"] / out["total"] if out["total"] else None
    return out
