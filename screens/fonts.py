"""The one CJK font of every label: registered once as Kivy's default, one SDL_ttf face per pixel size.

Kivy's SDL2 text provider opens the font file once per face it caches (SDL_ttf parses the 5 MB
file and keeps its own glyph cache for each: about 0.3 MB and 60 ms a face), and keys that cache
by ``str(font_size)``. SDL_ttf opens a face at ``int(font_size)`` pixels, so 32, 32.0 and 32.4
rendered identically from three faces (48 faces, 51 opens of the file with the preview printer's
three, before this; issue 17). ``share_faces`` keys the cache by the size SDL_ttf really uses, so
each (pixel size, bold) face is opened once; ``faces_in_use`` and ``warm`` open the faces the
screens use while nobody waits.

The font has no bold face, and Kivy's provider never asks SDL_ttf to embolden one: ``screens/bold.py``
draws and measures bold text emboldened (each stroke thickened by SDL_ttf's stroker).

Pillow's fonts for the printed ticket's picture are one per size in ``devices/printer/png.py``.
"""

from __future__ import annotations

from typing import Iterable

from kiosk import paths

_OPTIONS = ("font_name_r", "bold", "italic", "underline", "strikethrough")
_shared = False


def register_font() -> None:
    """WenQuanYi Micro Hei as Kivy's default font (regular, and bold: the same file, emboldened by
    ``screens.bold``), and one face per pixel size. Call after ``kivy.config`` is set up."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    from screens import bold

    LabelBase.register(DEFAULT_FONT, str(paths.FONT_PATH), None, str(paths.FONT_PATH))
    share_faces()
    bold.install()


def face_id(options: dict) -> str:
    """The key of the face a label renders with: its size as SDL_ttf opens it (whole pixels)."""
    return "|".join([str(int(options["font_size"]))] + [str(options[x]) for x in _OPTIONS])


def share_faces() -> bool:
    """Key the SDL2 provider's face cache by whole pixels (what SDL_ttf opens); False when Kivy
    uses another text provider (they open no face per fractional size)."""
    global _shared
    if _shared:
        return True
    from kivy.core.text import Label as CoreLabel

    try:
        from kivy.core.text.text_sdl2 import LabelSDL2
    except ImportError:  # no SDL2 text provider in this Kivy
        return False
    if not issubclass(CoreLabel, LabelSDL2):
        return False

    def _get_font_id(self) -> str:
        return face_id(self.options)

    LabelSDL2._get_font_id = _get_font_id
    _shared = True
    return True


def faces_in_use(widgets: Iterable) -> set[tuple[int, bool]]:
    """The (pixel size, bold) faces the labels among ``widgets`` render with; not a label marked
    ``face_apart``: sized when shown and warmed apart (the ticket's number), or drawn only when its seldom
    seen page is shown (the maintenance page)."""
    from kivy.uix.label import Label

    return {(int(w.font_size), bool(w.bold)) for w in widgets
            if isinstance(w, Label) and not getattr(w, "face_apart", False)}


def warm(faces: Iterable[tuple[int, bool]]) -> None:
    """Open each face now (on the attract screen) so a visitor's first tap does not wait for it."""
    from kivy.core.text import Label as CoreLabel

    for size, bold in sorted(faces):
        if size > 0:
            CoreLabel(text="号A0", font_size=size, bold=bold).refresh()
