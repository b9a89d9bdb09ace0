"""Workarounds for Kivy behaviour that hurts a kiosk.

``finish_gl_after_each_frame``:
Text re-rendered at the same size is uploaded into the label's existing GL
texture. With software OpenGL (Mesa llvmpipe: kiosk boxes without a GPU
driver, and this project's CI) that upload waited for the GPU work still
queued from earlier frames: measured here at 0.4-1.2 s for one changed
"等候 5 人" line. Finishing each frame's GL work right after it is shown
leaves nothing queued, so later uploads never wait. (Giving each re-render a
fresh texture also avoided the wait, but leaked about 7 MB per ticket.)

``release_text_surfaces``: Kivy's SDL2 text provider draws a label's text into an
SDL surface, copies its pixels into the label's texture and then keeps the
surface for as long as the label lives (``LabelSDL2._surface``): a second copy
of every label's pixels, never read again. On the dispenser's screens that was
about 10 MB (issue 17, ``bench/memory.py``). The surface is let go once its
pixels are taken; the next render makes a new one, as it did anyway.

``narrow_centred_text``: a centred label that wraps at its width (``halign:
"center"``, ``text_size: self.width, None``) gets a texture as wide as the
label, mostly empty: the attract screen's clock was 1856 x 176 px (1.3 MB) for
"09:00". Its texture is cut to the text's own width, trimmed by the same number
of whole pixels on each side; Kivy centres the texture on the label, so every
glyph lands on the same pixel as before.
"""

from __future__ import annotations

import functools
import math

from screens.bold import padding as laid_out_padding


@functools.cache  # once per process
def finish_gl_after_each_frame() -> None:
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    Window.bind(on_flip=lambda *_: glFinish())


@functools.cache  # once per process
def release_text_surfaces() -> None:
    """Drop each label's SDL surface once its pixels are copied out (see the module's docstring)."""
    from kivy.core.text import Label as CoreLabel

    end = getattr(CoreLabel, "_render_end", None)
    if not hasattr(CoreLabel, "_render_begin") or end is None or "_surface" not in end.__code__.co_names:
        return  # another text provider (Pillow, PangoFT2): it keeps no surface of its own

    def _render_end(self):
        surface, self._surface = self._surface, None
        return surface.get_data()

    CoreLabel._render_end = _render_end


@functools.cache  # once per process
def narrow_centred_text() -> None:
    """Centred, wrapped labels get textures as wide as their text, not as their box (module docstring);
    plain and markup ones (plain Chinese text is drawn through the markup core: ``screens.widgets.Label``)."""
    from kivy.core.text import LabelBase
    from kivy.core.text.markup import MarkupLabel

    LabelBase.render = _narrowing(LabelBase.render)
    MarkupLabel.render = _narrowing(MarkupLabel.render)


def _narrowing(render):
    def narrow_render(self, real=False):
        size = render(self, real)
        if real or self.options.get("halign") != "center" or not self._text_size[0] or not self._cached_lines:
            return size
        width, height = size
        padding = laid_out_padding(self.options)  # a bold label's is wider while it is laid out
        need = math.ceil(max(line.w for line in self._cached_lines) + padding[0] + padding[2])
        # the same whole number of pixels off each side: each line's offset inside the texture and the
        # texture's place on the label (int(center_x - width / 2)) move by exactly that much, oppositely
        cut = (width - need) // 2
        return (width - 2 * cut, height) if cut > 0 else size

    narrow_render.wide = render  # Kivy's own, for the test that both draw the same pixels
    return narrow_render
