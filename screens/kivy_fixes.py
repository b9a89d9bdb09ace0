"""Workarounds for Kivy behaviour that hurts a kiosk.

Text re-rendered at the same size is uploaded into the label's existing GL
texture. With software OpenGL (Mesa llvmpipe: kiosk boxes without a GPU
driver, and this project's CI) that upload waited for the GPU work still
queued from earlier frames: measured here at 0.4-1.2 s for one changed
"等候 5 人" line. Finishing each frame's GL work right after it is shown
leaves nothing queued, so later uploads never wait. (Giving each re-render a
fresh texture also avoided the wait, but leaked about 7 MB per ticket.)
"""

from __future__ import annotations

_applied = False


def finish_gl_after_each_frame() -> None:
    global _applied
    if _applied:
        return
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    Window.bind(on_flip=lambda *_: glFinish())
    _applied = True
