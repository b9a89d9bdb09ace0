"""A device-neutral printed document: what a ticket or notice slip says.

The layout code in ``kiosk`` builds these; ``devices.printer`` turns them into
ESC/POS bytes or a PNG preview. Nothing here knows about a printer protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Text:
    """One paragraph of text. ``width``/``height`` are character magnification 1-8."""

    text: str
    align: Align = "left"
    width: int = 1
    height: int = 1
    bold: bool = False


@dataclass(frozen=True)
class QR:
    """A QR code printed with the printer's native QR command."""

    data: str
    module_size: int = 6
    align: Align = "center"


@dataclass(frozen=True)
class Rule:
    """A horizontal separator line across the paper."""

    char: str = "-"


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    partial: bool = True


Block = Union[Text, QR, Rule, Feed, Cut]


@dataclass
class Document:
    blocks: list[Block] = field(default_factory=list)
    title: str = ""

    def add(self, block: Block) -> "Document":
        self.blocks.append(block)
        return self

    def plain_text(self) -> str:
        """The document's words, for logs and tests."""
        return "\n".join(b.text for b in self.blocks if isinstance(b, Text))
