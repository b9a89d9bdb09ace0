"""Drive the kiosk App without a display: for tests, benchmarks and screenshots.

Set ``SDL_VIDEODRIVER=offscreen`` and a temporary ``KIVY_HOME`` before the
first Kivy import (``offscreen_environment`` does it). The App is built and
attached to the (invisible) window without entering its main loop; ``pump``
runs frames.
"""

from __future__ import annotations

import os
import tempfile
import time


def offscreen_environment() -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")


FRAME_SHOWS_SCREEN: dict[tuple[int, int], bool] = {}  # window size -> its frames read back show the screen


def same_picture(frame, drawn) -> bool:
    """A window's frame shows what the screen drawn on its own (upside down, into a texture) shows: at
    most 1 % of the pixels differ, and those by single rows or columns at shapes' edges, which the two
    round apart (a surface too small for the window differs in whole regions)."""
    from PIL import ImageChops, ImageFilter

    if frame.size != drawn.size:
        return False
    diff = ImageChops.difference(frame, drawn).convert("L").point(lambda v: 255 if v else 0)
    changed = diff.histogram()[255]
    # a run of differing pixels 3 deep both ways is a region, not an edge
    return changed <= 0.01 * frame.width * frame.height and diff.filter(ImageFilter.MinFilter(3)).getbbox() is None


class Harness:
    """An App attached to the offscreen window, with helpers to tap and render."""

    def __init__(self, terminal, size: tuple[int, int] = (1920, 1080), monotonic=None, surface=None,
                 **app_options):
        """``monotonic``: the screens' clock for timeouts and double-tap guards (a test's fake clock).
        ``surface``: the size the process's window is created at, if this harness creates it (the
        offscreen driver keeps that drawing surface when the window is resized, so ``frame`` can read
        back only what fits in it; the tests make it square to hold both orientations)."""
        offscreen_environment()
        from wiring.app import create_app, prepare_kivy

        prepare_kivy(windowed=True, size=surface or size)
        from kivy.base import EventLoop
        from kivy.core.window import Window

        EventLoop.ensure_window()
        from kivy.clock import Clock

        # no frame-rate cap: a running app sleeps out the rest of each 1/60 s, a test has nothing
        # to wait for between frames (its timeouts run on Kivy's clock and the injected ``monotonic``)
        Clock._max_fps = 0
        self.window = Window
        self.window.size = size
        self.app = create_app(terminal, allow_close=True, **app_options)
        if monotonic is not None:
            self.app.monotonic = monotonic  # injected into every VisitorScreen (screens/base.py)
        from kivy.app import App

        App._running_app = self.app
        self.app._run_prepare()
        self.pump()
        self.app.warm_fonts()  # what the running app does on its attract screen

    @property
    def sm(self):
        return self.app.root

    def resize(self, size: tuple[int, int]) -> None:
        self.window.size = size
        self.pump()

    def pump(self, frames: int = 3) -> None:
        from kivy.base import EventLoop

        for _ in range(frames):
            EventLoop.idle()

    def wait(self, condition, timeout: float = 5.0) -> bool:
        """Run frames until ``condition()`` holds (True) or the timeout passes (False)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(1)
            if condition():
                return True
            time.sleep(0.01)
        return bool(condition())

    def tap(self, widget) -> None:
        """A real touch down/up at the widget's centre, through the window's dispatch; then three
        frames of clock, input and layout, undrawn (``settle``: a full-HD frame costs about 50 ms of
        software GL, and no check after a tap reads pixels). What waits for the next drawn frame (a
        print job: ``Terminal.after_next_frame``) starts at the next ``pump``, ``wait`` or ``picture``."""
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self.settle(3)

    def screenshot(self, path) -> str:
        self.pump()
        self.sm.current_screen.export_to_png(str(path))
        return str(path)

    def picture(self, settle: int = 3):
        """The current screen as shown now, a PIL RGB image, for a test that looks at the pixels (no PNG
        is encoded; ``keep`` writes one where a person asked for it).

        When the screen fills the window and nothing else is on it (a popup, the on-screen keyboard),
        that is the window's frame (``frame``: drawn once, read back). The first frame of each window
        size in this process is checked against the screen drawn on its own into a texture
        (``screens.audit.picture_of``, ``same_picture``); if they differ (a drawing surface smaller
        than the window) the screen is drawn on its own each time, as it always was before."""
        from screens.audit import picture_of

        self.settle(settle)
        screen = self.sm.current_screen
        size = tuple(int(v) for v in self.window.size)
        if (self.window.children != [self.app.root] or tuple(screen.size) != size
                or tuple(screen.to_window(screen.x, screen.y)) != (0, 0) or FRAME_SHOWS_SCREEN.get(size) is False):
            return picture_of(screen)
        frame = self.frame(settle=0)
        if size not in FRAME_SHOWS_SCREEN:
            drawn = picture_of(screen)
            FRAME_SHOWS_SCREEN[size] = same_picture(frame, drawn)
            if not FRAME_SHOWS_SCREEN[size]:
                print(f"\nthe window's frames at {size} are not the screen: drawing each screen on its own")
                return drawn
        return frame

    def settle(self, frames: int = 3) -> None:
        """Run ``frames`` frames of the clock, input and layout, as ``pump`` does, without drawing them:
        for states nobody looks at (``frame`` draws the one that is looked at)."""
        from kivy.base import EventLoop
        from kivy.clock import Clock
        from kivy.lang import Builder

        for _ in range(frames):
            Clock.tick()
            EventLoop.dispatch_input()
            Builder.sync()
            Clock.tick_draw()
            Builder.sync()

    def frame(self, settle: int = 3):
        """The window as Kivy draws and shows it now, a PIL RGB image (top row first).

        ``settle`` frames run first without drawing (``settle``), then one is drawn and read back as it
        is flipped: the screen is drawn once (``picture`` draws it once more into a texture, about
        0.3 s of software GL at full HD)."""
        from kivy.base import EventLoop
        from PIL import Image

        self.settle(settle)
        read = []
        self.window.fbind("on_flip", self._read_frame, read)
        try:
            self.window.canvas.ask_update()
            EventLoop.idle()
        finally:
            self.window.funbind("on_flip", self._read_frame, read)
        assert read, "no frame was drawn"
        size, data = read[-1]
        return Image.frombytes("RGBA", size, data).convert("RGB").transpose(Image.Transpose.FLIP_TOP_BOTTOM)

    def _read_frame(self, read, *_args) -> None:
        from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels

        w, h = (int(v) for v in self.window.size)
        read.append(((w, h), glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE)))

    def keep(self, name: str, picture=None) -> None:
        """Write ``picture`` (or the current screen, after the frames ``screenshot`` runs) to
        ``$KIOSK_UI_SHOTS/name.png`` when that folder is set, to look at. Without it nothing is encoded:
        a full-HD PNG costs about 0.3 s of CPU, and no test's check reads the file."""
        where = os.environ.get("KIOSK_UI_SHOTS")
        if picture is None:
            if where:
                os.makedirs(where, exist_ok=True)
                self.screenshot(os.path.join(where, f"{name}.png"))
            else:
                self.pump()
        elif where:
            os.makedirs(where, exist_ok=True)
            picture.save(os.path.join(where, f"{name}.png"))

    def close(self) -> None:
        from kivy.app import App
        from kivy.clock import Clock


        for screen in self.sm.screens:
            if getattr(screen, "idle", None):
                screen.idle.stop()
        if getattr(self.app, "card_watcher", None) is not None:
            self.app.card_watcher.stop()
        from kivy.base import ExceptionManager

        if self.app.crash_handler in ExceptionManager.handlers:
            ExceptionManager.remove_handler(self.app.crash_handler)
        if self.app._dim is not None:
            self.window.remove_widget(self.app._dim)
        self.window.remove_widget(self.app.root)
        self.app.terminal.close()
        for event in Clock.get_events():
            event.cancel()
        # a running Animation (a list scrolling to its place) stays in Animation._instances until it ends,
        # holding its widget and through it this App; with the clock's events cancelled it never ends
        from kivy.animation import Animation

        for anim in list(Animation._instances):
            for entry in list(anim._widgets.values()):
                anim.cancel(entry["widget"])
        Animation._instances.clear()
        App._running_app = None
        from screens import theme

        theme.use_palette(False)  # a visitor's high contrast must not outlive this App
        # kv rules reach the App through a proxy that keeps the first App until on_stop;
        # forget it, or the next harness sizes kv widgets with this app's text scale
        from kivy.lang.parser import global_idmap

        object.__setattr__(global_idmap["app"], "_obj", None)
        # Kivy keeps the last 100 log records; one whose args hold an exception (a failed print) holds
        # its traceback, its frames, the terminal and this App with every widget: closed Apps piled up
        # in a test process (millions of objects that each full garbage collection walks)
        from kivy.logger import LoggerHistory

        LoggerHistory.clear_history()
