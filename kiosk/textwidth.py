"""Display width of text on a Chinese receipt printer.

In GB18030/GBK every non-ASCII character is a double-byte code the printer
draws full width (two columns of its 12-dot font): CJK, full-width punctuation,
and also “”…— or é. ASCII is one column.

Shared by the ticket layout (does a line fit?) and the printer renderers
(where does a line wrap?), so the PNG preview wraps exactly like the paper.
"""

from __future__ import annotations

import unicodedata

# Printable columns of Font A (12 x 24 dots) at 203 dpi: 48 mm and 72 mm of print width.
COLUMNS = {58: 32, 80: 48}


def columns_for(paper_width_mm: int) -> int:
    try:
        return COLUMNS[paper_width_mm]
    except KeyError:
        raise ValueError(f"paper width must be 58 or 80 mm, not {paper_width_mm}") from None


def char_width(ch: str) -> int:
    return 1 if ch.isascii() else 2


def text_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def clean(text: str) -> str:
    """Control characters would reach the printer as commands: show them as spaces."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """Split one paragraph into lines of at most ``columns`` columns.

    Latin words move to the next line whole when the line has a space to break
    at; CJK text breaks between any two characters, except that a full-width
    closing mark (，。：) never starts a line: it takes the character before it
    along to the next line.
    """
    columns = max(columns, 2)
    lines: list[str] = []
    line = ""
    for ch in clean(text):
        if text_width(line) + char_width(ch) > columns:
            line, rest = _split(line, ch)
            lines.append(line.rstrip())
            line = rest
            if not line and ch == " ":
                continue
        line += ch
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


# Marks that must not start a line (the usual Chinese line-breaking rule).
_NO_LINE_START = set("，。、；：！？）》」』】〕…”’")


def _split(line: str, next_ch: str) -> tuple[str, str]:
    """Where a full ``line`` ends when ``next_ch`` does not fit: (kept, carried over)."""
    if next_ch in _NO_LINE_START and len(line) > 1:
        return line[:-1], line[-1]
    in_word = next_ch.isascii() and not next_ch.isspace() and line[-1:].isascii() and not line[-1:].isspace()
    space = line.rfind(" ")
    if in_word and space > 0 and line[space + 1:].isascii():
        return line[:space], line[space + 1:]
    return line, ""
