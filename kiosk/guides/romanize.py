"""Pinyin readings of text, for search.

Each kept character gets its readings: the reading pypinyin picks from
context first (重庆 -> chong, 银行 -> hang), then the character's other common
readings, so a visitor who types the "wrong" one (yinxing) still finds it.
Tones are dropped and ü is written v, as on a keyboard. Punctuation and
spaces are not kept: nobody types them into a search box.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

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


@lru_cache(maxsize=None)
def _other_readings(ch: str) -> tuple[str, ...]:
    found = pinyin(ch, style=Style.NORMAL, heteronym=True, v_to_u=False)
    return tuple(r for r in (found[0] if found else ()) if r.isascii() and r.isalpha())


def _hanzi_run(run: list[tuple[int, str]]) -> list[Syllable]:
    text = "".join(ch for _, ch in run)
    primary = lazy_pinyin(text, style=Style.NORMAL, v_to_u=False)
    if len(primary) != len(run):  # an unknown character swallowed its neighbours: go one by one
        primary = [(lazy_pinyin(ch, style=Style.NORMAL) or [""])[0] for _, ch in run]
    out = []
    for (pos, ch), first in zip(run, primary):
        readings = [first] if first.isascii() and first.isalpha() else []
        for other in _other_readings(ch):
            if other not in readings:
                readings.append(other)
        out.append(Syllable(ch, tuple(readings[:MAX_READINGS]), pos))
    return out


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
