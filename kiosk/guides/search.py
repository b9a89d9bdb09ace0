"""Search-as-you-type over guide names, keywords and text, in hanzi and pinyin: the ranking.

A query is a run of hanzi and latin letters. It matches a stretch of
consecutive characters when it splits into pieces, one per character, each
either the character itself or the start of one of its pinyin readings. That
one rule covers every way villagers type: 养老, yanglao, ylbx, 养老bx, yang老,
ylbaoxian, and the half-typed last syllable (yangl) while typing goes on.

Three modules, one job each: the index built once from the guides, segment
strings and bit masks (``kiosk.guides.search_build``); a query compiled to one
regular expression (``kiosk.guides.search_query``); and here the ranking
(``SearchIndex.search``). Guides are numbered in display order (hot items
first, then shorter names), so walking a mask from its lowest bit yields hits
already ranked within a tier, and a tier stops when the page is full.

Ranking, best first (``SCORE``): the whole name; a whole keyword (keywords are
the names villagers use: 低保, 吃低保); the start of the name; anywhere in the
name; the start of a keyword; anywhere in a keyword; one typo in the pinyin
of a name or keyword (latin queries of ``TYPO_MIN`` letters or more, in
``kiosk.guides.search_query``); a hanzi query found in the guide's text
(conditions, materials, steps, notes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .romanize import is_hanzi, normalize_query
from .search_build import MAX_UNIT, FieldIndex, Masks, bits
from .search_query import Query, compile_query

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


class SearchIndex:
    """Built once from the guides in display order; ``search`` is read-only and thread-safe.

    Names are nearly all different, so they are indexed per guide. Keywords
    repeat (低保 belongs to several guides), so each distinct keyword is
    indexed once with the mask of the guides that carry it.
    """

    def __init__(self, items: Sequence[Searchable]):
        self.size = len(items)
        self.names = FieldIndex([(it.name,) for it in items])
        owners = Masks()
        for i, it in enumerate(items):
            for word in it.keywords:
                owners.add(word, i)
        owner_masks = owners.freeze(self.size)
        self.keyword_list = list(owner_masks)
        self.keywords = FieldIndex([(word,) for word in self.keyword_list])
        self.guide_keywords = [tuple(it.keywords) for it in items]
        self.bodies = [it.body for it in items]
        self._owner_of = owner_masks

    def search(self, query: str, limit: int | None = 20) -> list[Match]:
        text = normalize_query(query)
        if not text or not self.size:
            return []
        q = compile_query(text)
        limit = self.size if limit is None else max(limit, 0)
        found: list[Match] = []
        taken = 0

        def tier(mask: int, test) -> None:
            nonlocal taken
            if len(found) >= limit:
                return
            for i in bits(mask & ~taken):
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

    def _keyword_matches(self, q: Query, pieces: int) -> dict[str, dict[str, None]]:
        """Distinct keywords that match, by kind (dicts keep the order for stable output)."""
        kw = self.keywords
        kinds = ("keyword-exact", "keyword-prefix", "keyword", "keyword-typo")
        out: dict[str, dict[str, None]] = {kind: {} for kind in kinds}
        short = kw.up_to[pieces]
        for j in bits(kw.candidates(q)):
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

    def _keyword_typos(self, q: Query, words: dict[str, dict[str, None]]) -> None:
        kw = self.keywords
        seen = set().union(*words.values())
        for j in bits(kw.typo_candidates(q.text)):
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
