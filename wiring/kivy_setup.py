"""Window and display setup before Kivy starts: full screen or windowed, no exit on Escape,
the on-screen keyboard for staff fields, and the shipped CJK font as Kivy's default.

``prepare_kivy`` must run before Kivy is imported anywhere (``kivy.config`` reads its
settings once). Re-exported as ``wiring.app.prepare_kivy``.
"""

from __future__ import annotations

import os



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
