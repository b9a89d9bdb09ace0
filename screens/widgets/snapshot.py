"""Draw a block of widgets that rarely changes as one picture (software GL).

On this project's software OpenGL (Mesa llvmpipe) a frame costs roughly what its
instructions cost to rasterise, and the whole window is drawn on every frame that
changes anything. The search screen's on-screen keyboard (40 keys: a rounded
background, a rim line and a letter each) cost about 40% of each frame while only
the results below it changed (bench/search_screen.py, issue 17).

``Snapshot`` renders its children into an off-screen framebuffer (Kivy's ``Fbo``),
which draws again only when something inside it changes, and shows that picture:
one textured rectangle a frame. ``SnapKey`` is a keyboard key for it: a press
does not change the key inside the picture (that would redraw it all); the key's
pressed look is drawn live on top, by a twin key in the pressed state, while the
finger is down.
"""

from __future__ import annotations

from contextlib import contextmanager

from kivy.graphics import Canvas, ClearBuffers, ClearColor, Color, Fbo, Rectangle, Translate
from kivy.properties import ColorProperty
from kivy.uix.boxlayout import BoxLayout

from .buttons import KeyButton


class Snapshot(BoxLayout):
    """A BoxLayout whose children are drawn once into a texture, then shown as that texture.

    ``background``: the colour behind the children (the page's), so their edges blend exactly
    as they would on the page.
    """

    background = ColorProperty((0, 0, 0, 0))

    def __init__(self, **kw):
        self.canvas = Canvas()
        with self.canvas:
            self.fbo = Fbo(size=(1, 1), with_stencilbuffer=False)
            Color(1, 1, 1, 1)
            self._picture = Rectangle(texture=self.fbo.texture, size=(1, 1))
        with self.fbo.before:
            self._clear_colour = ClearColor(0, 0, 0, 0)
            ClearBuffers()
            self._shift = Translate(0, 0)  # children draw at window positions; the picture starts at 0, 0
        self._twins: dict[int, KeyButton] = {}
        super().__init__(**kw)
        self.bind(pos=self._place, size=self._place, background=self._paint)
        self._paint()

    def _paint(self, *_args) -> None:
        self._clear_colour.rgba = self.background

    def _place(self, *_args) -> None:
        width, height = max(1, int(round(self.width))), max(1, int(round(self.height)))
        if tuple(self.fbo.size) != (width, height):
            self.fbo.size = (width, height)
            texture = self.fbo.texture
            # shown pixel for pixel: nearest sampling draws the same picture as linear, and software GL
            # fills it ~30% faster (~4 ms CPU a frame for the search keyboard, issue 17)
            texture.mag_filter = texture.min_filter = "nearest"
            self._picture.texture = texture
        self._picture.pos = (round(self.x), round(self.y))  # whole pixels: one texel per pixel
        self._picture.size = (width, height)
        self._shift.x, self._shift.y = -self.x, -self.y

    # children's canvases go into the framebuffer, not onto the window
    @contextmanager
    def _into_fbo(self):
        canvas, self.canvas = self.canvas, self.fbo
        try:
            yield
        finally:
            self.canvas = canvas

    def add_widget(self, widget, *args, **kw):
        with self._into_fbo():
            return super().add_widget(widget, *args, **kw)

    def remove_widget(self, widget, *args, **kw):
        with self._into_fbo():
            return super().remove_widget(widget, *args, **kw)

    def show_pressed(self, key: KeyButton, down: bool) -> None:
        """Draw ``key`` pressed over the picture (``down``), or stop doing so."""
        twin = self._twins.get(id(key))
        if twin is None:
            twin = self._twins[id(key)] = KeyButton(text=key.text, font_size=key.font_size, bg=key.bg,
                                                    bg_down=key.bg_down, ink=key.ink, size_hint=(None, None))
            twin.state = "down"
        if down:
            twin.size, twin.pos = key.size, key.pos
            if twin.canvas not in self.canvas.after.children:
                self.canvas.after.add(twin.canvas)
        elif twin.canvas in self.canvas.after.children:
            self.canvas.after.remove(twin.canvas)


class SnapKey(KeyButton):
    """A key inside a ``Snapshot``: pressing it leaves the picture alone and draws the pressed key on top."""

    def _snapshot(self) -> Snapshot | None:
        w = self.parent
        while w is not None and not isinstance(w, Snapshot):
            w = w.parent
        return w

    def _do_press(self):
        snapshot = self._snapshot()
        if snapshot is None:
            return super()._do_press()
        snapshot.show_pressed(self, True)

    def _do_release(self, *args):
        snapshot = self._snapshot()
        if snapshot is None:
            return super()._do_release(*args)
        snapshot.show_pressed(self, False)
