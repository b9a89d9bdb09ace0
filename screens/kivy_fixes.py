"""Workarounds for Kivy behaviour that hurts a kiosk.

Text re-rendered at the same size is blitted into the label's existing GL texture.
With software OpenGL (Mesa llvmpipe: kiosk boxes without a GPU driver, and this
project's CI) that upload waits for every queued frame using the texture: measured
here at 0.4-1.2 s for one changed "等候 5 人" line. A fresh texture per re-render
costs an allocation and never waits, so the ticket screen and the grid redraw at once.
"""

from __future__ import annotations

_applied = False


def fresh_texture_per_render() -> None:
    global _applied
    if _applied:
        return
    from kivy.core.text import LabelBase

    original = LabelBase.refresh

    def refresh(self):
        self.texture = None  # never blit into a texture a queued frame may still read
        original(self)

    LabelBase.refresh = refresh
    _applied = True
