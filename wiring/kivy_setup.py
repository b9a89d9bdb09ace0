"""Window and display setup before Kivy starts: full screen or windowed, no exit on Escape,
the on-screen keyboard for staff fields, and the shipped CJK font as Kivy's default.

``prepare_kivy`` must run before Kivy is imported anywhere (``kivy.config`` reads its
settings once). Re-exported as ``wiring.app.prepare_kivy``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path


def software_gl() -> bool:
    """Whether OpenGL will be drawn by the CPU (Mesa's llvmpipe): no GPU render node, or Mesa told so.

    A hall box without a GPU draws every frame in software, where Kivy's default 2x multisampling
    more than doubles a frame (the inquiry search keystroke: 169 ms CPU with it, 68 ms without,
    issue 17); with a GPU it costs nothing and keeps rounded edges smooth."""
    if os.environ.get("LIBGL_ALWAYS_SOFTWARE", "0") not in ("", "0"):
        return True
    return not any(Path("/dev/dri").glob("renderD*"))


def multisamples() -> int:
    """Kivy's anti-aliasing samples for this box: 0 on software GL, Kivy's default 2 on a GPU;
    ``KIOSK_MULTISAMPLES`` overrides."""
    override = os.environ.get("KIOSK_MULTISAMPLES", "")
    if override.isdigit():
        return int(override)
    chosen = 0 if software_gl() else 2
    if override:
        logging.getLogger(__name__).warning("KIOSK_MULTISAMPLES=%r is not a whole number of samples: using %d",
                                            override, chosen)
    return chosen


def prepare_screen(windowed: bool, size: tuple[int, int] | None) -> None:
    """``prepare_kivy`` for the box's own output, probed first (``kiosk.display.probe_output``: full screen on
    it; ``NoDisplay`` where there is none), unless SDL draws offscreen."""
    output = None
    if os.environ.get("SDL_VIDEODRIVER") != "offscreen":
        from kiosk.display import probe_output

        os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
        output = probe_output()
        if output is not None:
            logging.getLogger(__name__).info("display: %s %dx%d%s", output.driver, output.width, output.height,
                                             " (Xwayland)" if output.under_wayland else "")
    prepare_kivy(windowed, size, output)


def prepare_kivy(windowed: bool, size: tuple[int, int] | None, output=None) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our CLI owns argv
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    # SDL would turn SIGTERM/SIGINT into a window-close request, which a kiosk refuses;
    # wiring.lifecycle.StopOnSignals handles them instead.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "systemanddock")  # staff text fields get an on-screen keyboard
    Config.set("input", "mouse", "mouse,disable_multitouch")  # no red dots on right click
    Config.set("graphics", "resizable", "1" if windowed else "0")
    Config.set("graphics", "multisamples", str(multisamples()))
    if windowed:
        w, h = size or (1280, 720)
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "width", str(w))
        Config.set("graphics", "height", str(h))
    else:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
        if output is not None:
            from kiosk.display import full_screen_window

            for key, value in full_screen_window(output).items():
                Config.set("graphics", key, value)
    from screens import fonts

    # One font for every label: WenQuanYi Micro Hei covers Chinese and Latin; one face per pixel size.
    fonts.register_font()
