"""Bold labels drawn bold under Kivy's SDL2 text provider: every stroke thickened evenly.

Kivy 2.3.1's SDL2 provider never asks SDL_ttf for bold: a label's ``bold`` (and markup's ``[b]``) only
picks the file registered as the font's bold face, and the face it opens gets no style but underline
and strikethrough (``_get_font`` in kivy/core/text/_text_sdl2.pyx). WenQuanYi Micro Hei has no bold
face (its .ttc holds a regular and a monospaced one; Kivy opens the first), so the bold file is the
regular one and every bold label was drawn regular, from a second face of the same file.

SDL_ttf's own ``TTF_STYLE_BOLD`` is out of Kivy's reach (it sets the style in C), and it would not suit
hanzi: it smears each glyph sideways by a tenth of its size, which fills the gaps of dense characters
(删, 触, 疆) into blots from 48 px up (tried through ctypes on faces of our own: legible Latin, blotted
Chinese). Bold text here is emboldened the way FreeType emboldens a face that has none
(``FT_GlyphSlot_Embolden``, what fontconfig's ``embolden`` does for CJK fonts on Linux desktops): every
stroke thickened evenly, by about size/24 pixels. A bold run's glyphs are drawn by Kivy's regular face
of its size, and over them their outline, ``stroke(size)`` pixels either side of each contour (size/48,
at least one), in the text's colour, by SDL_ttf's stroker on an outline face of our own
(``screens/sdl_ttf.py``: one per bold face Kivy would have opened, its key ``_get_font_id``, so the file
is still opened once per (pixel size, bold) face; its outline stays set, so its glyph cache holds).
Kivy's own outline path drew the same picture but set and reset the outline around every run, each
change emptying the face's glyph cache: about twice the cost of a regular label, bench/tap_to_ticket.py's
p50 7-15 ms slower (200 tickets, loaded box); this way it is within the run-to-run spread.

Where it goes: a bold run is laid out as a regular one (same advances, same line height: the thicker
strokes grow into the glyphs' side bearings and the line's spare space above and below them) and its
outline is blended over the label's pixels (``Canvas``, SDL's alpha blend) so that it sits round the
glyphs where they stand. A bold label gets ``stroke`` pixels more padding left and right, so the
thickened first and last glyphs stay inside its texture: a bold string is measured ``2 * stroke``
wider than regular (``measure``, ``fit_font``, the layout audit's probe: they all lay out a core label).
A ``[b]`` run inside a regular label (a search match) gets no padding: its outline can reach a pixel
past the texture only where a glyph touches its box at a line's end.

A label given an outline of its own keeps it and is drawn as Kivy draws it.
"""

from __future__ import annotations

import functools
import logging

from screens.sdl_ttf import HINTING, TTF_STYLE_STRIKETHROUGH, TTF_STYLE_UNDERLINE, SDLTTF, OutlineFace, blend_over

log = logging.getLogger(__name__)


def stroke(font_size: float) -> int:
    """The outline, in whole pixels, that thickens a bold glyph's strokes by about ``font_size / 24``."""
    return max(1, int(font_size / 48 + 0.5))


def _emboldens(options: dict) -> bool:
    return bool(options["bold"]) and not options["outline_width"]


class _Padded(list):
    """A bold label's padding while it is laid out or drawn: its own with ``stroke`` pixels more left and
    right."""


def padding(options: dict) -> list:
    """A core label's padding as it is laid out: its own, with ``stroke`` pixels more left and right when
    it is emboldened (``kivy_fixes.narrow_centred_text`` trims its texture to this)."""
    own = options["padding"]
    if isinstance(own, _Padded) or not _emboldens(options):
        return own
    k = stroke(options["font_size"])
    return _Padded([own[0] + k, own[1], own[2] + k, own[3]])


def _padding_first(render):
    """``render`` (a core label's layout, or its drawing) with the bold padding set while it runs, and the
    label's own padding back after (a copy of its options, as the layout audit's probe makes, is padded
    once, not twice)."""
    def render_padded(self, real=False):
        own = self.options["padding"]
        padded = padding(self.options)
        if padded is own:
            return render(self, real)
        self.options["padding"] = padded
        try:
            return render(self, real)
        finally:
            self.options["padding"] = own  # Kivy's markup label ends with a copy of the options it began with

    return render_padded


class Canvas:
    """What a label draws its runs into, in place of Kivy's ``_SurfaceContainer`` (Kivy's provider calls
    only ``render`` and ``get_data`` on it): every run's glyphs into Kivy's surface, by the regular face;
    a bold run's outline, by its outline face, blended over them in ``get_data``."""

    def __init__(self, w: int, h: int, surface_class, outline_face, lib):
        self.w, self.h = w, h
        self.regular = surface_class(w, h)
        self._outline_face, self._lib = outline_face, lib
        self.outlines: list = []  # (x, y, Picture, opacity) in drawing order

    def render(self, container, text: str, x, y) -> None:
        options = container.options
        if not _emboldens(options):
            self.regular.render(container, text, x, y)
            return
        k = stroke(options["font_size"])
        picture = self._outline_face(container).render(text, options["color"], HINTING.get(options["font_hinting"], 0),
                                                       options["font_kerning"])
        with _regular(options):
            self.regular.render(container, text, x, y)
        if picture is not None:  # whole pixels, as SDL's rectangles
            self.outlines.append((int(x) - k, int(y) - k, picture, options["color"][3]))

    def get_data(self):
        from kivy.core.image import ImageData

        data = self.regular.get_data()
        if not self.outlines:
            return data
        pixels = blend_over(self._lib, data.data, self.w, self.h, self.outlines)
        self.outlines = []
        return ImageData(self.w, self.h, "rgba", pixels)


class _regular:
    """A bold run's options as the regular face's, while Kivy measures or draws its glyphs."""

    def __init__(self, options: dict):
        self.options = options

    def __enter__(self):
        self.options["bold"] = False

    def __exit__(self, *_exc):
        self.options["bold"] = True


@functools.cache  # once per process
def install() -> bool:
    """Lay out and draw bold text emboldened under Kivy's SDL2 provider (module docstring); False where
    Kivy uses another text provider, or its SDL_ttf is out of reach (then bold is drawn regular, as
    Kivy draws it)."""
    try:
        from kivy.core.text.text_sdl2 import LabelSDL2, _SurfaceContainer
    except ImportError:  # no SDL2 text provider in this Kivy
        return False
    from kivy.core.text import LabelBase
    from kivy.core.text.markup import MarkupLabel

    try:
        lib = SDLTTF()
    except (OSError, AttributeError) as exc:
        log.warning("bold labels are drawn regular: %s", exc)
        return False
    faces: dict[str, OutlineFace] = {}

    def outline_face(label) -> OutlineFace:
        key = label._get_font_id()  # the bold face's key: one face, opened once, per (size, bold, style)
        face = faces.get(key)
        if face is None:
            options = label.options
            style = (TTF_STYLE_UNDERLINE if options["underline"] else 0) | \
                (TTF_STYLE_STRIKETHROUGH if options["strikethrough"] else 0)
            face = faces[key] = OutlineFace(lib, options["font_name_r"], int(options["font_size"]),
                                            stroke(options["font_size"]), style)
        return face

    kivy_extents, kivy_ascent, kivy_descent = LabelSDL2.get_extents, LabelSDL2.get_ascent, LabelSDL2.get_descent

    def get_extents(self, text):
        if not _emboldens(self.options):
            return kivy_extents(self, text)
        with _regular(self.options):
            return kivy_extents(self, text)

    def get_ascent(self):
        if not _emboldens(self.options):
            return kivy_ascent(self)
        with _regular(self.options):
            return kivy_ascent(self)

    def get_descent(self):
        if not _emboldens(self.options):
            return kivy_descent(self)
        with _regular(self.options):
            return kivy_descent(self)

    def _render_begin(self):
        self._surface = Canvas(self._size[0], self._size[1], _SurfaceContainer, outline_face, lib)

    LabelSDL2.get_extents, LabelSDL2.get_ascent, LabelSDL2.get_descent = get_extents, get_ascent, get_descent
    LabelSDL2._render_begin = _render_begin
    LabelBase.render = _padding_first(LabelBase.render)
    MarkupLabel.render = _padding_first(MarkupLabel.render)
    return True
