"""Render a kiosk Document to a PNG that looks like the printed receipt.

One pixel is one printer dot (203 dpi), text sits in the printer's 12 x 24
character cells and wraps exactly where the ESC/POS renderer wraps, so the
picture shows what the paper will show.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from kiosk import paths
from kiosk.document import QR, Cut, Document, Feed, Rule, Text
from kiosk.textwidth import char_width

from .paper import CELL_DOTS, DOT_MM, PRINT_DOTS, magnification, rule_line, text_lines

LINE_DOTS = 34  # default ESC/POS line spacing, 1/6 inch
CUTTER_FEED_DOTS = 96  # paper fed past the head before the cutter bites
TOP_DOTS = 24
BACKDROP = 24  # grey frame around the paper
INK = 24  # near-black thermal print
PAPER = (255, 255, 255)
FRAME = (226, 229, 234)


GLYPH_DOTS = 24  # the printer's character cell is 12 x 24 dots
GLYPH_SIZE = GLYPH_DOTS - 2  # the printer's glyphs keep a dot of space around them


@lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont:
    """The one face of the picture (index 0 of the .ttc at the printer's 24-dot size): the printer
    magnifies that one font for double and quad size, and so does the picture (a face per size kept
    the 5 MB file mapped three times; issue 17)."""
    return ImageFont.truetype(str(paths.FONT_PATH), GLYPH_SIZE, index=0)


def _glyph_strip(line: str, bold: bool) -> Image.Image:
    """One line at the printer's own size: each character centred in its cell."""
    cols = sum(char_width(ch) for ch in line)
    strip = Image.new("L", (max(cols * CELL_DOTS, 1), GLYPH_DOTS), 255)
    draw = ImageDraw.Draw(strip)
    font = _font()
    x = 0
    for ch in line:
        w = char_width(ch) * CELL_DOTS
        if not ch.isspace():
            draw.text((x + w / 2, GLYPH_DOTS / 2), ch, font=font, fill=INK, anchor="mm", stroke_width=1 if bold else 0,
                      stroke_fill=INK)
        x += w
    return strip


def _text_strip(line: str, width: int, height: int, bold: bool) -> Image.Image:
    """One printed line, magnified like GS ! (the printer scales its 24-dot glyphs)."""
    strip = _glyph_strip(line, bold)
    if width != 1 or height != 1:
        strip = strip.resize((strip.width * width, strip.height * height), Image.LANCZOS)
    glyph = GLYPH_DOTS * height
    pitch = max(LINE_DOTS, glyph + 4 * height)
    framed = Image.new("L", (strip.width, pitch), 255)
    framed.paste(strip, (0, (pitch - glyph) // 2))
    return framed


def _qr_image(block: QR) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=max(block.module_size, 1),
                         border=0)
    code.add_data(block.data)
    code.make(fit=True)
    img = code.make_image(fill_color=(INK, INK, INK), back_color="white").get_image().convert("L")
    pad = Image.new("L", (img.width, img.height + 16), 255)  # the printer feeds a little after the symbol
    pad.paste(img, (0, 8))
    return pad


def _blank(dots: int) -> Image.Image:
    return Image.new("L", (1, max(dots, 1)), 255)


def _strips(doc: Document, paper_width_mm: int, cutter: bool) -> list[tuple[Image.Image, str]]:
    strips: list[tuple[Image.Image, str]] = []
    for block in doc.blocks:
        if isinstance(block, Text):
            w, h = magnification(block.width), magnification(block.height)
            strips += [(_text_strip(line, w, h, block.bold), block.align) for line in text_lines(block, paper_width_mm)]
        elif isinstance(block, Rule):
            strips.append((_text_strip(rule_line(block, paper_width_mm), 1, 1, False), "left"))
        elif isinstance(block, QR) and block.data:
            strips.append((_qr_image(block), block.align))
        elif isinstance(block, Feed):
            strips.append((_blank(block.lines * LINE_DOTS), "left"))
        elif isinstance(block, Cut):
            strips.append((_blank(CUTTER_FEED_DOTS if cutter else 5 * LINE_DOTS), "left"))
    return strips


def render_png(doc: Document, paper_width_mm: int = 80, cutter: bool = True) -> Image.Image:
    """The receipt on a grey backdrop, one pixel per printer dot."""
    printable = PRINT_DOTS[paper_width_mm]
    paper_w = paper_width_mm * DOT_MM
    margin = (paper_w - printable) // 2
    strips = _strips(doc, paper_width_mm, cutter)
    paper_h = TOP_DOTS + sum(s.height for s, _ in strips) + (0 if any(isinstance(b, Cut) for b in doc.blocks) else 48)
    paper = Image.new("L", (paper_w, paper_h), 255)
    y = TOP_DOTS
    for strip, align in strips:
        if strip.width > printable:  # cannot happen for wrapped text; keep the picture honest anyway
            strip = strip.crop((0, 0, printable, strip.height))
        x = {"center": (printable - strip.width) // 2, "right": printable - strip.width}.get(align, 0)
        paper.paste(strip, (margin + x, y))
        y += strip.height
    canvas = Image.new("RGB", (paper_w + 2 * BACKDROP, paper_h + 2 * BACKDROP), FRAME)
    shadow = Image.new("L", canvas.size, 0)
    ImageDraw.Draw(shadow).rectangle((BACKDROP + 3, BACKDROP + 4, BACKDROP + paper_w + 2, BACKDROP + paper_h + 3),
                                     fill=70)
    canvas.paste((150, 154, 160), mask=shadow.filter(ImageFilter.GaussianBlur(4)))
    canvas.paste(paper.convert("RGB"), (BACKDROP, BACKDROP))
    return canvas


def save_png(doc: Document, path: Path | str, paper_width_mm: int = 80, cutter: bool = True) -> Path:
    path = Path(path)
    # fast zlib: a preview is written on every ticket, on the terminal's CPU, while the
    # ticket screen is drawn; optimize=True took ~100 ms per ticket for a few KB saved
    render_png(doc, paper_width_mm, cutter).save(path, compress_level=1)
    return path
