"""The guide search index, built once: each text as a segment string and bit masks over the guides.

Each text is stored once as a "segment string", ``'养^y|ang|'老^l|ao|``: a
quote starts a character, a caret one of its readings, a bar marks where a
piece may stop (see ``_marked``). A query (``kiosk.guides.search_query``)
compiles to one regular expression over that string.

To stay fast over thousands of guides, bit masks (Python ints, one bit per
guide) narrow the candidates before any regex runs: which guides contain a
character with a reading starting "sh", a character 申, an s-character
followed by a q-character, and so on (``FieldIndex``). The ranking that walks
them is ``kiosk.guides.search.SearchIndex.search``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Iterator, Sequence

from .romanize import Syllable, is_hanzi, syllables

if TYPE_CHECKING:
    from .search_query import Query

MAX_PIECE = 6  # longest pinyin syllable (zhuang): how far the second piece can start
MAX_UNIT = 64  # exact-match masks by text length stop here


def _marked(reading: str) -> str:
    """A reading with "|" where a piece may stop: after its first letter, after zh/ch/sh, at its end."""
    cuts = {1, len(reading)}
    if reading[:2] in ("zh", "ch", "sh"):
        cuts.add(2)
    return "".join(ch + ("|" if i in cuts else "") for i, ch in enumerate(reading, 1))


def segment_string(units: Sequence[list[Syllable]]) -> str:
    """``'养^y|ang|'老^l|ao|``; several units (keywords) are separated by newlines."""
    return "\n".join(
        "".join("'" + s.char + "".join("^" + _marked(r) for r in s.readings) for s in unit) for unit in units
    )


def _first_starts(segment: str) -> tuple[int, ...]:
    """Where the readings of the first character begin (the carets before the second quote)."""
    end = segment.find("'", 1)
    first = segment if end < 0 else segment[:end]
    return tuple(i for i, ch in enumerate(first) if ch == "^")


def _stops(reading: str) -> set[str]:
    """The pieces of ``reading`` that may be followed by the next character's: the marks of ``_marked``."""
    return {reading[:1], reading} | ({reading[:2]} if reading[:2] in ("zh", "ch", "sh") else set())


def _full_pinyin(unit: list[Syllable]) -> str:
    return "".join(s.readings[0] if s.readings else "" for s in unit)


def _heads(s: Syllable) -> set[str]:
    """What a piece may start with on this character: the hanzi or a reading's first letter."""
    heads = {r[0] for r in s.readings if r}
    if is_hanzi(s.char):
        heads.add(s.char)
    return heads


class Masks:
    """Guide-number sets per key, collected as Python sets, frozen into int bit masks."""

    def __init__(self) -> None:
        self.sets: dict[object, set[int]] = defaultdict(set)

    def add(self, key: object, i: int) -> None:
        self.sets[key].add(i)

    def freeze(self, size: int) -> dict[object, int]:
        masks = {}
        for key, ids in self.sets.items():
            bits = bytearray(size // 8 + 1)
            for i in ids:
                bits[i >> 3] |= 1 << (i & 7)
            masks[key] = int.from_bytes(bits, "little")
        return masks


class FieldIndex:
    """One kind of text (names or keywords) across all guides."""

    def __init__(self, per_guide: Sequence[Sequence[str]]):
        size = len(per_guide)
        self.segments: list[str] = []
        self.fulls: list[str] = []  # first readings run together, for typo matching
        self.starts: list[tuple[int, ...]] = []  # offsets of the first character's readings
        self.units: list[list[list[Syllable]]] = []
        self.texts: list[list[str]] = []  # the texts that had anything searchable, in unit order
        piece, start, pair, letters, fullpair, short = (Masks() for _ in range(6))
        self.stops: set[str] = set()  # where a piece may stop short of the query's end: see _stops
        cache: dict[str, list[Syllable]] = {}  # keywords repeat across guides
        for i, texts in enumerate(per_guide):
            units, kept = [], []
            for text in texts:
                unit = cache.get(text)
                if unit is None:
                    unit = cache[text] = syllables(text)
                if unit:
                    units.append(unit)
                    kept.append(text)
            self.units.append(units)
            self.texts.append(kept)
            self.segments.append(segment_string(units))
            self.starts.append(_first_starts(self.segments[-1]))
            self.fulls.append("\n".join(_full_pinyin(u) for u in units))
            for unit in units:
                short.add(min(len(unit), MAX_UNIT), i)
                for k, s in enumerate(unit):
                    keys = {s.char} if is_hanzi(s.char) else set()
                    for r in s.readings:
                        keys.update(r[:n] for n in range(1, len(r) + 1))
                        self.stops.update(_stops(r))
                        letters_in = set(r)
                        for x in letters_in:
                            letters.add(x, i)
                    for key in keys:
                        piece.add(key, i)
                        if k == 0:
                            start.add(key, i)
                    if k + 1 < len(unit):
                        nxt = _heads(unit[k + 1])
                        for a in _heads(s):
                            for b in nxt:
                                if a.isascii() and b.isascii():
                                    pair.add((a, b), i)
                full = _full_pinyin(unit)
                for a, b in zip(full, full[1:]):
                    fullpair.add((a, b), i)
        self.piece = piece.freeze(size)
        self.start = start.freeze(size)
        self.pair = pair.freeze(size)
        self.letters = letters.freeze(size)
        self.fullpair = fullpair.freeze(size)
        by_length = short.freeze(size)
        self.up_to: list[int] = []  # up_to[n]: guides with a unit of at most n characters
        acc = 0
        for n in range(MAX_UNIT + 1):
            acc |= by_length.get(n, 0)
            self.up_to.append(acc)

    def candidates(self, q: Query) -> int:
        """Guides that may match: a necessary condition, checked by the regex afterwards."""
        mask = -1
        for token in q.hanzi:
            mask &= self.piece.get(token, 0)
        for run in q.runs:
            for x in set(run):
                mask &= self.letters.get(x, 0)
            if not mask:
                return 0
            mask &= self._run_candidates(run)
            if not mask:
                return 0
        return max(mask, 0)

    def _run_candidates(self, run: str) -> int:
        """Guides where ``run`` may split into pieces, one per character (the rule of ``search_query``).

        Over the ways to split what follows position ``pos`` (right to left): a piece that stops
        before the end must stop where a reading may (``stops``); the guide has a character whose
        reading starts with that piece, and a pair of characters whose readings start with the piece's
        first letter and the next piece's. A necessary condition, far tighter than the letters alone:
        "zhaij" is 宅(zhai)+基(ji) or 镇(z)+海(hai)+j..., not any z-character before an a-character.
        """
        return self._split(run, self.piece, self._rests(run))

    def _rests(self, run: str) -> list[int]:
        """``rests[pos]``: guides where ``run[pos:]`` may match as the tail of a match."""
        n = len(run)
        rests = [0] * n + [-1]
        for pos in range(n - 1, 0, -1):
            rests[pos] = self._split(run[pos:], self.piece, rests[pos:])
        return rests

    def _split(self, run: str, first: dict, rests: list[int]) -> int:
        """Guides where a first piece of ``run`` is in ``first`` (a mask per piece) and the rest may follow."""
        n, acc = len(run), 0
        piece_pair, stops = self.pair, self.stops
        for end in range(1, min(n, MAX_PIECE) + 1):
            part = run[:end]
            if end == n:
                acc |= first.get(part, 0)
            elif part in stops and rests[end]:
                acc |= first.get(part, 0) & piece_pair.get((part[0], run[end]), 0) & rests[end]
        return acc

    def starts_with(self, q: Query) -> int:
        """Guides whose text may match from its first character (a necessary condition, as ``candidates``)."""
        if not q.runs or not q.text.startswith(q.runs[0]):
            return self.start.get(q.text[0], 0)
        run = q.runs[0]
        return self._split(run, self.start, self._rests(run))

    def typo_candidates(self, run: str) -> int:
        """Guides whose pinyin may be one edit from ``run``.

        One edit spoils at most one part of the query: with two parts one is
        intact, with three parts two are. Three parts (from 6 letters) are far
        more selective, since short pieces like "ing" are everywhere.
        """
        n = len(run)
        cuts = [0, n // 2, n] if n < 6 else [0, n // 3, 2 * n // 3, n]
        parts = [self._contains(run[a:b]) for a, b in zip(cuts, cuts[1:])]
        if len(parts) == 2:
            return parts[0] | parts[1]
        return (parts[0] & parts[1]) | (parts[0] & parts[2]) | (parts[1] & parts[2])

    def _contains(self, part: str) -> int:
        """Guides whose full pinyin has every letter pair of ``part`` (necessary for containing it)."""
        mask = -1
        for a, b in zip(part, part[1:]):
            mask &= self.fullpair.get((a, b), 0)
        return max(mask, 0) if len(part) > 1 else self.letters.get(part, 0)


def bits(mask: int) -> Iterator[int]:
    """Set bits, lowest first: guides in display order. (str.find walks the bits in C.)"""
    if mask <= 0:
        return
    digits = format(mask, "b")[::-1]
    i = digits.find("1")
    while i >= 0:
        yield i
        i = digits.find("1", i + 1)
