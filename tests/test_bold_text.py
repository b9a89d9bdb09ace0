"""Bold labels are drawn bold (``screens/bold.py``): Kivy's SDL2 provider drew them regular (the font has no
bold face and Kivy never asks SDL_ttf to embolden one).

Read from the textures Kivy uploads: the same text, bold and regular, counted in ink pixels (alpha over
half) and compared pixel for pixel (the bold glyphs cover the regular ones where they stand). Through the
three ways text is drawn here: a plain core label, the wrapping Chinese of ``screens.widgets.Label``
(drawn through the markup core label), and a ``[b]`` run inside regular markup.
"""

from __future__ import annotations

import pytest

TEXT = "请触摸屏幕取号 A001"
WRAPPING = "符合以下条件的群众可优先叫号，请如实选择；工作人员将核验相关证件"


def _alpha(texture):
    from PIL import Image

    return Image.frombytes("RGBA", tuple(texture.size), texture.pixels).getchannel("A")


def _ink(alpha) -> set[tuple[int, int]]:
    w = alpha.width
    return {(i % w, i // w) for i, a in enumerate(alpha.tobytes()) if a > 127}


def _drawn(core):
    core.refresh()
    return _alpha(core.texture)


def _check_bolder(regular, bold, dx: int = 0) -> None:
    """``bold`` (an alpha channel) holds clearly more ink than ``regular``, over every regular glyph's
    place: the regular ink, ``dx`` pixels right, is ink in bold too."""
    ink_r, ink_b = _ink(regular), _ink(bold)
    assert len(ink_r) > 500
    assert len(ink_b) >= 1.25 * len(ink_r), (len(ink_b), len(ink_r))
    covered = sum((x + dx, y) in ink_b for x, y in ink_r)
    assert covered >= 0.98 * len(ink_r), (covered, len(ink_r))


@pytest.mark.ui
def test_bold_text_is_drawn_bold_and_measured_wider(terminal_factory, harness_factory):
    harness_factory(terminal_factory())  # the offscreen window, the font as `kiosk run` registers it
    from kivy.core.text import Label as CoreLabel
    from kivy.core.text.markup import MarkupLabel

    from screens.bold import stroke
    from screens.widgets.basic import Label, measure

    black = (0, 0, 0, 1)
    for size in (32, 48, 96):
        k = stroke(size)
        regular = _drawn(CoreLabel(text=TEXT, font_size=size, color=black))
        bold = _drawn(CoreLabel(text=TEXT, font_size=size, bold=True, color=black))
        # as wide as drawn: the thicker first and last glyphs get `k` pixels more room each side
        assert bold.size == (regular.width + 2 * k, regular.height), (size, bold.size, regular.size)
        assert measure(TEXT, size, bold=True) == (regular.width + 2 * k, regular.height)
        _check_bolder(regular, bold, dx=k)

    # wrapping Chinese in the app's Label: drawn through the markup core label, piece by piece
    labels = {}
    for bold in (False, True):
        label = Label(text=WRAPPING, font_size=48, bold=bold, color=black, text_size=(520, None))
        label.texture_update()
        assert isinstance(label._label, MarkupLabel)
        labels[bold] = _alpha(label.texture)
    assert labels[True].height == labels[False].height  # the same lines: no taller, wrapped alike
    _check_bolder(labels[False], labels[True], dx=stroke(48))

    # a [b] run inside regular text (a search match): bolder, the rest as it was
    plain = _drawn(MarkupLabel(text="普通加粗普通", font_size=48, color=black))
    marked = _drawn(MarkupLabel(text="普通[b]加粗[/b]普通", font_size=48, color=black))
    assert marked.size == plain.size
    third = plain.width // 3  # two characters each: regular, bold, regular
    _check_bolder(*(a.crop((third, 0, 2 * third, a.height)) for a in (plain, marked)))
    for part in ((0, 0, third - 2, plain.height), (2 * third + 2, 0, plain.width, plain.height)):
        assert _ink(plain.crop(part)) == _ink(marked.crop(part))
