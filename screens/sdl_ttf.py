"""The SDL_ttf calls Kivy does not expose, on the very library its SDL2 text provider is linked with.

Kivy keeps its SDL_ttf faces in C (``kivy/core/text/_text_sdl2.pyx``); ``screens/bold.py`` needs a face
with an outline that stays set (Kivy sets one for a single render and resets it, and each change empties
the face's glyph cache). The libraries are the ones already loaded in this process (found in its memory
map, opened with ``RTLD_NOLOAD``: that copy and no other, so SDL_ttf's state is Kivy's).
"""

from __future__ import annotations

import ctypes
import os

TTF_STYLE_UNDERLINE, TTF_STYLE_STRIKETHROUGH = 0x04, 0x08
HINTING = {"normal": 0, "light": 1, "mono": 2, None: 3}
SDL_BLENDMODE_BLEND = 1


class _Color(ctypes.Structure):
    _fields_ = [("r", ctypes.c_uint8), ("g", ctypes.c_uint8), ("b", ctypes.c_uint8), ("a", ctypes.c_uint8)]


class _Surface(ctypes.Structure):  # the head of SDL 2's SDL_Surface
    _fields_ = [("flags", ctypes.c_uint32), ("format", ctypes.POINTER(ctypes.c_uint32)), ("w", ctypes.c_int),
                ("h", ctypes.c_int), ("pitch", ctypes.c_int), ("pixels", ctypes.c_void_p)]


def loaded(name: str) -> str | None:
    """The path of the shared library ``name`` (``libSDL2``, ``libSDL2_ttf``) this process has loaded."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "/" in line})
    except OSError:
        return None
    return next((p for p in paths if os.path.basename(p).startswith((name + "-", name + "."))), None)


class SDLTTF:
    """The functions, typed; raises OSError where the libraries are not loaded."""

    def __init__(self):
        ttf_path, sdl_path = loaded("libSDL2_ttf"), loaded("libSDL2")
        if not ttf_path or not sdl_path:
            raise OSError("Kivy's SDL2 and SDL2_ttf libraries are not in this process's memory map")
        ttf = ctypes.CDLL(ttf_path, mode=os.RTLD_NOLOAD)
        sdl = ctypes.CDLL(sdl_path, mode=os.RTLD_NOLOAD)
        font, text, surface = ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_Surface)
        for lib, fn, res, args in (
                (ttf, "TTF_WasInit", ctypes.c_int, []), (ttf, "TTF_Init", ctypes.c_int, []),
                (ttf, "TTF_OpenFont", font, [text, ctypes.c_int]),
                (ttf, "TTF_SetFontStyle", None, [font, ctypes.c_int]),
                (ttf, "TTF_SetFontOutline", None, [font, ctypes.c_int]),
                (ttf, "TTF_GetFontHinting", ctypes.c_int, [font]),
                (ttf, "TTF_SetFontHinting", None, [font, ctypes.c_int]),
                (ttf, "TTF_GetFontKerning", ctypes.c_int, [font]),
                (ttf, "TTF_SetFontKerning", None, [font, ctypes.c_int]),
                (ttf, "TTF_RenderUTF8_Blended", surface, [font, text, _Color]),
                (sdl, "SDL_CreateRGBSurfaceFrom", surface, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                                             ctypes.c_int] + [ctypes.c_uint32] * 4),
                (sdl, "SDL_SetSurfaceBlendMode", ctypes.c_int, [surface, ctypes.c_int]),
                (sdl, "SDL_SetSurfaceAlphaMod", ctypes.c_int, [surface, ctypes.c_uint8]),
                (sdl, "SDL_UpperBlit", ctypes.c_int, [surface, ctypes.c_void_p, surface, ctypes.c_void_p]),
                (sdl, "SDL_FreeSurface", None, [surface]),
                (sdl, "SDL_GetError", ctypes.c_char_p, [])):
            f = getattr(lib, fn)  # AttributeError: not SDL_ttf 2
            f.restype, f.argtypes = res, args
            setattr(self, fn, f)


class _Rect(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("w", ctypes.c_int), ("h", ctypes.c_int)]


class Picture:
    """An SDL surface SDL_ttf drew (``w`` x ``h``), freed with this object."""

    def __init__(self, lib: "SDLTTF", surface):
        self.lib, self.surface = lib, surface
        self.w, self.h = surface.contents.w, surface.contents.h

    def __del__(self):
        if self.surface:
            self.lib.SDL_FreeSurface(self.surface)
            self.surface = None


def blend_over(lib: "SDLTTF", rgba: bytes, w: int, h: int, pictures) -> bytes:
    """``rgba`` (``w`` x ``h``, RGBA bytes) with each ``(x, y, Picture, opacity)`` blended over it in turn
    (SDL's alpha blend, clipped to the page), as new bytes."""
    page = bytearray(rgba)
    pixels = (ctypes.c_char * len(page)).from_buffer(page)
    surface = lib.SDL_CreateRGBSurfaceFrom(pixels, w, h, 32, w * 4, 0x000000FF, 0x0000FF00, 0x00FF0000, 0xFF000000)
    if not surface:
        raise MemoryError(lib.SDL_GetError().decode("utf-8", "replace"))
    try:
        for x, y, picture, opacity in pictures:
            lib.SDL_SetSurfaceBlendMode(picture.surface, SDL_BLENDMODE_BLEND)
            lib.SDL_SetSurfaceAlphaMod(picture.surface, max(0, min(255, int(opacity * 255))))
            lib.SDL_UpperBlit(picture.surface, None, surface, ctypes.byref(_Rect(x, y, picture.w, picture.h)))
    finally:
        lib.SDL_FreeSurface(surface)
        del pixels
    return bytes(page)


class OutlineFace:
    """One face of a font file at one pixel size whose glyphs are drawn as their outline, ``outline``
    pixels either side of each contour (SDL_ttf's stroker), the setting kept for the face's life (its
    glyph cache with it)."""

    def __init__(self, lib: SDLTTF, path: str, size: int, outline: int, style: int = 0):
        if not lib.TTF_WasInit():
            lib.TTF_Init()
        self.lib = lib
        self.font = lib.TTF_OpenFont(path.encode("utf-8"), size)
        if not self.font:
            raise OSError(f"SDL_ttf cannot open {path}: {lib.SDL_GetError().decode('utf-8', 'replace')}")
        lib.TTF_SetFontStyle(self.font, style)
        lib.TTF_SetFontOutline(self.font, outline)

    def render(self, text: str, rgb, hinting: int = 0, kerning: bool = True) -> Picture | None:
        """``text``'s outline in colour ``rgb`` (0-1 floats); None for nothing drawn."""
        lib, font = self.lib, self.font
        if lib.TTF_GetFontHinting(font) != hinting:
            lib.TTF_SetFontHinting(font, hinting)
        if lib.TTF_GetFontKerning(font) != int(kerning):
            lib.TTF_SetFontKerning(font, int(kerning))
        surface = lib.TTF_RenderUTF8_Blended(font, text.encode("utf-8"), _Color(*(int(v * 255) for v in rgb[:3]), 255))
        return Picture(lib, surface) if surface else None
