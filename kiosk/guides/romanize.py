"""Pinyin readings of text, for search.

Each kept character gets its readings: the reading pypinyin picks from
context first (重庆 -> chong, 银行 -> hang). A character whose reading the
context settles keeps that one; others keep up to two more readings (参保:
can, cen, shen), so a visitor who guesses another reading still finds it,
while 信访 does not also answer to "shenfang".
Tones are dropped and ü is written v, as on a keyboard. Punctuation and
spaces are not kept: nobody types them into a search box.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MAX_READINGS = 3  # contextual reading + two others; rarer readings only add noise
LATIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def is_hanzi(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def fold(ch: str) -> str:
    """One character as a keyboard would type it: half width, lower case, ü -> v."""
    ch = unicodedata.normalize("NFKC", ch).lower()
    return "v" if ch == "ü" else ch


def normalize_query(text: str) -> str:
    """The searchable characters of a query: hanzi, a-z and 0-9."""
    out = []
    for raw in text:
        for ch in fold(raw):
            if ch in LATIN or is_hanzi(ch):
                out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class Syllable:
    char: str  # the character itself (folded)
    readings: tuple[str, ...]  # for hanzi: pinyin, best first; for a-z0-9: the character
    position: int  # index in the original text, for highlighting


def _clean(readings: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for r in readings if r.isascii() and r.isalpha()))[:MAX_READINGS]


def _hanzi_run(run: list[tuple[int, str]]) -> list[Syllable]:
    # With heteronym=True pypinyin gives a character inside a known phrase only its phrase
    # reading (银行 -> hang) and other characters all their readings, contextual one first.
    from pypinyin import Style, pinyin  # here, not at import: its dictionaries cost every server start ~0.3 s

    text = "".join(ch for _, ch in run)
    found = pinyin(text, style=Style.NORMAL, heteronym=True, v_to_u=False)
    if len(found) != len(run):  # an unknown character swallowed its neighbours: go one by one
        found = [(pinyin(ch, style=Style.NORMAL, heteronym=True) or [[]])[0] for _, ch in run]
    return [Syllable(ch, _clean(readings), pos) for (pos, ch), readings in zip(run, found)]


def syllables(text: str) -> list[Syllable]:
    """The searchable characters of ``text`` with their readings."""
    out: list[Syllable] = []
    run: list[tuple[int, str]] = []
    for pos, raw in enumerate(text):
        ch = fold(raw)
        if len(ch) == 1 and is_hanzi(ch):
            run.append((pos, ch))
            continue
        if run:
            out.extend(_hanzi_run(run))
            run = []
        if len(ch) == 1 and ch in LATIN:
            out.append(Syllable(ch, (ch,), pos))
    if run:
        out.extend(_hanzi_run(run))
    return out
