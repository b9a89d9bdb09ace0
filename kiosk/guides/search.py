"""Search-as-you-type over guide names, keywords and text, in hanzi and pinyin.

A query is a run of hanzi and latin letters. It matches a stretch of
consecutive characters when it splits into pieces, one per character, each
either the character itself or the start of one of its pinyin readings. That
one rule covers every way villagers type: 养老, yanglao, ylbx, 养老bx, yang老,
ylbaoxian, and the half-typed last syllable (yangl) while typing goes on.

Each text is stored once as a "segment string", ``'养^y|ang|'老^l|ao|``: a
quote starts a character, a caret one of its readings, a bar marks where a
piece may stop (see ``_marked``). A query compiles to one regular expression
over that string (see ``_pattern``), so matching runs in the ``re`` engine,
not in Python loops.

To stay fast over thousands of guides, bit masks (Python ints, one bit per
guide) narrow the candidates before any regex runs: which guides contain a
character with a reading starting "sh", a character 申, an s-character
followed by a q-character, and so on. Guides are numbered in display order
(hot items first, then shorter names), so walking a mask from its lowest bit
yields hits already ranked within a tier, and a tier stops when the page is
full.

Ranking, best first (``SCORE``): the whole name; a whole keyword (keywords are
the names villagers use: 低保, 吃低保); the start of the name; anywhere in the
name; the start of a keyword; anywhere in a keyword; one typo in the pinyin
of a name or keyword (latin queries of ``TYPO_MIN`` letters or more); a hanzi
query found in the guide's text (conditions, materials, steps, notes).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Iterator, Sequence

from .romanize import Syllable, is_hanzi, normalize_query, syllables

SCORE = {
    "name-exact": 100,
    "keyword-exact": 90,
    "name-prefix": 80,
    "name": 70,
    "keyword-prefix": 60,
    "keyword": 50,
    "name-typo": 30,
    "keyword-typo": 25,
    "body": 10,
}
TYPO_MIN = 5  # shorter latin queries stay precise: "dbsq" must not also mean "dbsh"
MAX_PIECE = 6  # longest pinyin syllable (zhuang): how far the second piece can start
MAX_UNIT = 64  # exact-match masks by text length stop here


@dataclass(frozen=True)
class Searchable:
    """What the index needs to know of one guide."""

    name: str
    keywords: tuple[str, ...] = ()
    body: str = ""


@dataclass(frozen=True)
class Match:
    index: int  # position in the sequence the index was built from
    kind: str  # a key of SCORE
    span: tuple[int, int] | None = None  # characters of the name that matched, for highlighting
    keyword: str | None = None  # the keyword that matched

    @property
    def score(self) -> int:
        return SCORE[self.kind]


# ------------------------------------------------------------------ text side

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


def _full_pinyin(unit: list[Syllable]) -> str:
    return "".join(s.readings[0] if s.readings else "" for s in unit)


def _heads(s: Syllable) -> set[str]:
    """What a piece may start with on this character: the hanzi or a reading's first letter."""
    heads = {r[0] for r in s.readings if r}
    if is_hanzi(s.char):
        heads.add(s.char)
    return heads


class _Masks:
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


class _FieldIndex:
    """One kind of text (names or keywords) across all guides."""

    def __init__(self, per_guide: Sequence[Sequence[str]]):
        size = len(per_guide)
        self.segments: list[str] = []
        self.fulls: list[str] = []  # first readings run together, for typo matching
        self.starts: list[tuple[int, ...]] = []  # offsets of the first character's readings
        self.units: list[list[list[Syllable]]] = []
        self.texts: list[list[str]] = []  # the texts that had anything searchable, in unit order
        piece, start, pair, letters, fullpair, short = (_Masks() for _ in range(6))
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

    def candidates(self, q: "_Query") -> int:
        """Guides that may match: a necessary condition, checked by the regex afterwards."""
        mask = -1
        for token in q.hanzi:
            mask &= self.piece.get(token, 0)
        for run in q.runs:
            options = self.piece.get(run, 0) if len(run) <= MAX_PIECE else 0
            for j in range(1, min(MAX_PIECE, len(run) - 1) + 1):
                options |= self.pair.get((run[0], run[j]), 0)
            mask &= options
            for x in set(run):
                mask &= self.letters.get(x, 0)
            if not mask:
                return 0
        return max(mask, 0)

    def starts_with(self, q: "_Query") -> int:
        return self.start.get(q.text[0], 0)

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


# ----------------------------------------------------------------- query side

class _Query:
    """A normalized query and its one pattern. Compiling costs more than matching, and every
    keystroke is a new query, so one pattern serves all tiers: ``search`` anywhere, ``match``
    at the first character's readings (prefix), ``fullmatch`` there (the whole text). The
    typo pattern is only compiled when exact matching left room."""

    def __init__(self, text: str):
        self.text = text
        self.hanzi = tuple(ch for ch in text if is_hanzi(ch))
        self.runs = tuple(re.findall(r"[a-z0-9]+", text))
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
        else:  # same reading goes on (over a mark), or at a mark the next character starts
            out.append("(?:\\|(?:" + _NEXT + "[^'\\n]*?\\^)??)?" + letter)
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
def _compile(text: str) -> _Query:
    return _Query(text)


def _bits(mask: int) -> Iterator[int]:
    """Set bits, lowest first: guides in display order. (str.find walks the bits in C.)"""
    if mask <= 0:
        return
    digits = format(mask, "b")[::-1]
    i = digits.find("1")
    while i >= 0:
        yield i
        i = digits.find("1", i + 1)


# ---------------------------------------------------------------------- index

class SearchIndex:
    """Built once from the guides in display order; ``search`` is read-only and thread-safe.

    Names are nearly all different, so they are indexed per guide. Keywords
    repeat (低保 belongs to several guides), so each distinct keyword is
    indexed once with the mask of the guides that carry it.
    """

    def __init__(self, items: Sequence[Searchable]):
        self.size = len(items)
        self.names = _FieldIndex([(it.name,) for it in items])
        owners = _Masks()
        for i, it in enumerate(items):
            for word in it.keywords:
                owners.add(word, i)
        owner_masks = owners.freeze(self.size)
        self.keyword_list = list(owner_masks)
        self.keywords = _FieldIndex([(word,) for word in self.keyword_list])
        self.guide_keywords = [tuple(it.keywords) for it in items]
        self.bodies = [it.body for it in items]
        self._owner_of = owner_masks

    def search(self, query: str, limit: int | None = 20) -> list[Match]:
        text = normalize_query(query)
        if not text or not self.size:
            return []
        q = _compile(text)
        limit = self.size if limit is None else max(limit, 0)
        found: list[Match] = []
        taken = 0

        def tier(mask: int, test) -> None:
            nonlocal taken
            if len(found) >= limit:
                return
            for i in _bits(mask & ~taken):
                hit = test(i)
                if hit:
                    found.append(hit)
                    taken |= 1 << i
                    if len(found) >= limit:
                        return

        names = self.names
        pieces = min(len(text), MAX_UNIT)
        name_c = names.candidates(q)
        name_start = name_c & names.starts_with(q)
        words = self._keyword_matches(q, pieces)

        def on_name(kind: str):
            def test(i: int) -> Match | None:
                seg = names.segments[i]
                if kind == "name":
                    m = q.pattern.search(seg)
                else:
                    m = q.at_start(seg, names.starts[i], whole=kind == "name-exact")
                return Match(i, kind, self._span(i, m)) if m else None
            return test

        def on_keyword(kind: str):
            matched = words[kind]
            def test(i: int) -> Match:
                word = next((w for w in self.guide_keywords[i] if w in matched), None)
                return Match(i, kind, keyword=word)
            return test

        tier(name_start & names.up_to[pieces], on_name("name-exact"))
        tier(self._owners(words["keyword-exact"]), on_keyword("keyword-exact"))
        tier(name_start, on_name("name-prefix"))
        tier(name_c, on_name("name"))
        tier(self._owners(words["keyword-prefix"]), on_keyword("keyword-prefix"))
        tier(self._owners(words["keyword"]), on_keyword("keyword"))
        if q.allows_typo and len(found) < limit:
            typo = q.typo
            self._keyword_typos(q, words)
            tier(names.typo_candidates(text),
                 lambda i: Match(i, "name-typo") if typo.search(names.fulls[i]) else None)
            tier(self._owners(words["keyword-typo"]), on_keyword("keyword-typo"))
        if len(found) < limit and all(is_hanzi(ch) for ch in text):
            bodies = self.bodies
            tier((1 << self.size) - 1, lambda i: Match(i, "body") if text in bodies[i] else None)
        return found

    def _keyword_matches(self, q: _Query, pieces: int) -> dict[str, dict[str, None]]:
        """Distinct keywords that match, by kind (dicts keep the order for stable output)."""
        kw = self.keywords
        kinds = ("keyword-exact", "keyword-prefix", "keyword", "keyword-typo")
        out: dict[str, dict[str, None]] = {kind: {} for kind in kinds}
        short = kw.up_to[pieces]
        for j in _bits(kw.candidates(q)):
            seg, starts = kw.segments[j], kw.starts[j]
            if (short >> j) & 1 and q.at_start(seg, starts, whole=True):
                kind = "keyword-exact"
            elif q.at_start(seg, starts, whole=False):
                kind = "keyword-prefix"
            elif q.pattern.search(seg):
                kind = "keyword"
            else:
                continue
            out[kind][self.keyword_list[j]] = None
        return out

    def _keyword_typos(self, q: _Query, words: dict[str, dict[str, None]]) -> None:
        kw = self.keywords
        seen = set().union(*words.values())
        for j in _bits(kw.typo_candidates(q.text)):
            word = self.keyword_list[j]
            if word not in seen and q.typo.search(kw.fulls[j]):
                words["keyword-typo"][word] = None

    def _owners(self, words: dict[str, None]) -> int:
        mask = 0
        for word in words:
            mask |= self._owner_of[word]
        return mask

    def _span(self, i: int, m: re.Match) -> tuple[int, int] | None:
        units = self.names.units[i]
        if not units:
            return None
        seg = self.names.segments[i]
        first = seg.count("'", 0, m.start() + 1) - 1
        last = seg.count("'", 0, m.end()) - 1
        unit = units[0]
        return unit[first].position, unit[last].position + 1
