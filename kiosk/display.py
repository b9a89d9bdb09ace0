"""What screen the terminal will get, asked of SDL before Kivy opens its window.

Kivy sizes its first window from its config (800x600 by default) and then asks
for full screen. Under cage (the deploy's compositor) the app is an X11 client
of Xwayland, and there the picture stays the size the window was *created* at:
cage maximizes the window and Kivy lays out for the output, but only the first
800x600 pixels are ever shown (and taps land off the drawing). So the window
must be created at the output's size. The output size comes from SDL itself
(the SDL library Kivy ships, loaded with ctypes, no Kivy import): initialise
the video subsystem, read the desktop mode, shut the subsystem down again.

That same check answers "is there a usable display at all": without one,
``kiosk run`` says so and exits instead of running invisibly.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import glob
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

SDL_INIT_VIDEO = 0x20
HEADLESS = ("offscreen", "dummy")  # SDL drivers that show nothing on any screen


class NoDisplay(Exception):
    """SDL found no display it can open (no X server, no Wayland compositor)."""


@dataclass(frozen=True)
class Output:
    driver: str  # SDL's video driver: x11, wayland, offscreen, kmsdrm ...
    width: int
    height: int
    under_wayland: bool  # an X11 client of Xwayland under a Wayland compositor (cage)


class _DisplayMode(ctypes.Structure):
    _fields_ = [("format", ctypes.c_uint32), ("w", ctypes.c_int), ("h", ctypes.c_int),
                ("refresh_rate", ctypes.c_int), ("driverdata", ctypes.c_void_p)]


def _sdl_library() -> ctypes.CDLL | None:
    """The SDL2 Kivy was built with (its wheel bundles one), else the system's."""
    spec = importlib.util.find_spec("kivy")
    candidates = []
    if spec and spec.origin:
        site = Path(spec.origin).resolve().parent.parent
        candidates += sorted(glob.glob(str(site / "Kivy.libs" / "libSDL2-2*.so*")))
    found = ctypes.util.find_library("SDL2-2.0") or ctypes.util.find_library("SDL2")
    if found:
        candidates.append(found)
    for name in candidates:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def probe_output() -> Output | None:
    """The output SDL would open; None when SDL cannot be loaded (Kivy decides alone then).

    Raises NoDisplay with SDL's reason when no video driver can start.
    """
    sdl = _sdl_library()
    if sdl is None:
        return None
    sdl.SDL_GetError.restype = ctypes.c_char_p
    sdl.SDL_GetCurrentVideoDriver.restype = ctypes.c_char_p
    if sdl.SDL_InitSubSystem(SDL_INIT_VIDEO) != 0:
        raise NoDisplay((sdl.SDL_GetError() or b"").decode(errors="replace") or "no video driver")
    try:
        driver = (sdl.SDL_GetCurrentVideoDriver() or b"").decode()
        if driver in HEADLESS and os.environ.get("SDL_VIDEODRIVER") != driver:
            # SDL falls back to drawing into memory when it finds no screen
            raise NoDisplay("no X server or Wayland compositor found; SDL could only draw off screen")
        mode = _DisplayMode()
        if sdl.SDL_GetDesktopDisplayMode(0, ctypes.byref(mode)) != 0 or mode.w <= 0 or mode.h <= 0:
            return None
        return Output(driver, mode.w, mode.h, driver == "x11" and bool(os.environ.get("WAYLAND_DISPLAY")))
    finally:
        sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO)


def full_screen_window(output: Output) -> dict[str, str]:
    """Kivy [graphics] settings for a window that fills ``output``.

    Under Xwayland the window is created one pixel larger than the output: cage
    clamps it to the output (a window exactly the output's size stayed black on
    wlroots' software renderer, one smaller left a black line). Why black: cage
    0.1.4 scans a window of exactly the output's size out directly, and on the
    headless backend the tests use, screenshots (grim) then keep the frame from
    before the scan-out began; one pixel larger, the first frames are composited
    (tests/test_cage.py's docstring has the evidence). Elsewhere Kivy's own full
    screen ("auto": the desktop's resolution) at the output's size.
    """
    if output.under_wayland:
        return {"fullscreen": "0", "borderless": "1", "position": "custom", "left": "0", "top": "0",
                "width": str(output.width + 1), "height": str(output.height + 1)}
    return {"fullscreen": "auto", "width": str(output.width), "height": str(output.height)}


class WindowSizeInvalid(argparse.ArgumentTypeError, ValueError):
    """A ``--size`` that is no window size (argparse shows its message as it is)."""


def window_size(text: str) -> tuple[int, int]:
    """``WxH`` (``1080x1920``) as a window size in pixels: ``kiosk run --size`` and the render scripts' (an
    argparse ``type``)."""
    try:
        w, h = (int(n) for n in text.lower().split("x"))
    except ValueError:
        raise WindowSizeInvalid(f"must look like 1920x1080, not '{text}'") from None
    if not (100 <= w <= 10000 and 100 <= h <= 10000):
        raise WindowSizeInvalid(f"{w}x{h} is no screen size (each side 100 to 10000 pixels)")
    return w, h
