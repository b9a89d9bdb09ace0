"""Paper geometry shared by the ESC/POS and PNG renderers, so both wrap alike."""

from __future__ import annotations

from kiosk.document import Rule, Text
from kiosk.textwidth import char_width, columns_for, wrap

DOT_MM = 8  # 203 dpi thermal heads: 8 dots per millimetre
PRINT_DOTS = {58: 384, 80: 576}  # printable width in dots
CELL_DOTS = 12  # Font A: 12 x 24 dots; a CJK character is two cells wide


def magnification(value: int) -> int:
    """Character magnification as ESC/POS allows it (GS ! takes 1-8)."""
    return min(max(int(value), 1), 8)


def text_lines(block: Text, paper_width_mm: int) -> list[str]:
    """The printed lines of a text block: paragraphs wrapped to the magnified width."""
    columns = columns_for(paper_width_mm) // magnification(block.width)
    lines: list[str] = []
    for paragraph in block.text.split("\n"):
        lines.extend(wrap(paragraph, columns))
    return lines


def rule_line(block: Rule, paper_width_mm: int) -> str:
    char = (block.char or "-")[0]
    return char * (columns_for(paper_width_mm) // char_width(char))
