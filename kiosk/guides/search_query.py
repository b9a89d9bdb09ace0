"""A search query compiled once: one regular expression over the index's segment strings.

A query is a run of hanzi and latin letters. It matches a stretch of
consecutive characters when it splits into pieces, one per character, each
either the character itself or the start of one of its pinyin readings
(segment strings: ``kiosk.guides.search_build``). The pattern (``_pattern``)
runs in the ``re`` engine, not in Python loops; the typo pattern (``_one_edit``)
allows one letter deleted, replaced, inserted or swapped.
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache

from .romanize import is_hanzi

TYPO_MIN = 5  # shorter latin queries stay precise: "dbsq" must not also mean "dbsh"


class Query:
    """A normalized query and its one pattern. Compiling costs more than matching, and every
    keystroke is a new query, so one pattern serves all tiers: ``search`` anywhere, ``match``
    at the first character's readings (prefix), ``fullmatch`` there (the whole text). The
    typo pattern is only compiled when exact matching left room."""

    def __init__(self, text: str):
        self.text = text
        self.hanzi = tuple(ch for ch in text if is_hanzi(ch))
        self.runs = tuple(_RUNS.findall(text))
        self.allows_typo = len(self.runs) == 1 and self.runs[0] == text and len(text) >= TYPO_MIN
        self.starts_with_hanzi = is_hanzi(text[0])
        self.pattern = re.compile(_pattern(text))

    def at_start(self, segment: str, starts: tuple[int, ...], whole: bool) -> re.Match | None:
        test = self.pattern.fullmatch if whole else self.pattern.match
        for pos in (0,) if self.starts_with_hanzi else starts:
            m = test(segment, pos)
            if m:
                return m
        return None

    @cached_property
    def typo(self) -> re.Pattern:  # one edit away, on full pinyin
        return re.compile(_one_edit(self.text))


# A piece may stop short only where people abbreviate (the "|" marks of a reading: its
# first letter as in ylbx, zh/ch/sh) or at the very end of the query (still typing).
# "juzhu" is 居住, not 军(jun)+属(zhu); "yan老" is not 养老.
_RUNS = re.compile(r"[a-z0-9]+")
_REST = "[^'\\n]*"  # the rest of the current character: other readings included
_NEXT = _REST + "'"  # on to the next character


def _pattern(text: str) -> str:
    """The regex over segment strings for a normalized query (see module doc)."""
    out, previous = [], None
    for ch in text:
        if is_hanzi(ch):
            lead = {None: "", "hanzi": _NEXT, "latin": "\\|" + _NEXT}[previous]
            out.append(lead + ("'" if previous is None else "") + ch)
            previous = "hanzi"
            continue
        letter = re.escape(ch)
        if previous is None:  # first piece: the start of any reading
            out.append("\\^" + letter)
        elif previous == "hanzi":  # next character, any reading
            out.append(_NEXT + "[^'\\n]*?\\^" + letter)
        else:  # same reading goes on (over a mark), at a mark the next character starts, or no mark
            out.append("(?:\\||\\|" + _NEXT + "[^'\\n]*?\\^|)" + letter)
        previous = "latin"
    return "".join(out) + _REST


def _one_edit(run: str) -> str:
    """Alternatives for ``run`` with one letter deleted, replaced, inserted or swapped."""
    variants = {run}
    for i in range(len(run)):
        variants.add(run[:i] + run[i + 1:])
        variants.add(run[:i] + "[a-z]" + run[i + 1:])
        if 0 < i:
            variants.add(run[:i] + "[a-z]" + run[i:])
        if i + 1 < len(run):
            variants.add(run[:i] + run[i + 1] + run[i] + run[i + 2:])
    return "|".join(sorted(variants, key=len, reverse=True))


@lru_cache(maxsize=256)
def compile_query(text: str) -> Query:
    return Query(text)
