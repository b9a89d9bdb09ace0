"""Colours and sizes for visitor screens (PRODUCT.md section 5).

Sizes are pixels on a 1080-pixel short side, scaled to the real screen. The
contrast of each text/background pair used for numbers and button labels is
at least 7:1 (checked in tests/test_theme.py).
"""

from __future__ import annotations

# colours as (r, g, b) 0-255; Kivy wants 0-1 floats, see rgba()
BLUE = (11, 79, 156)  # header, primary buttons, ticket number: 8.0:1 on white
BLUE_DARK = (7, 52, 107)
WHITE = (255, 255, 255)
PAGE = (240, 244, 250)  # page background behind cards
INK = (26, 26, 26)  # main text on white: 17:1
INK_SOFT = (64, 64, 64)  # secondary text on white: 10:1
DISABLED_BG = (224, 224, 224)
DISABLED_INK = (64, 64, 64)  # 7.9:1 on DISABLED_BG
GREEN = (0, 86, 0)  # "printed" text: 8.3:1 on PAGE
RED = (160, 0, 0)  # paused / failure banner: 8.6:1 with white
AMBER_BG = (255, 243, 205)
AMBER_INK = (92, 60, 0)  # on AMBER_BG: 8.7:1

# sizes in px at 1080 short side
TEXT = 36  # body text for visitors (>= 32)
TEXT_SMALL = 32
TITLE = 52
BUTTON_TEXT = 44
HEADER_H = 130
TARGET = 120  # minimum touch target in both directions
GAP = 24  # minimum gap between targets
LARGE_SCALE = 1.5  # the large-type mode: 32 px text becomes 48 px


# The high-contrast choice a visitor can make (PRODUCT.md 5): light ink on black, every pair
# at least 10:1. The names keep their roles: WHITE is the card and button-label colour,
# BLUE the primary (header, buttons, ticket number), INK the text on cards.
NORMAL_PALETTE = dict(BLUE=BLUE, BLUE_DARK=BLUE_DARK, WHITE=WHITE, PAGE=PAGE, INK=INK, INK_SOFT=INK_SOFT,
                      DISABLED_BG=DISABLED_BG, DISABLED_INK=DISABLED_INK, GREEN=GREEN, RED=RED,
                      AMBER_BG=AMBER_BG, AMBER_INK=AMBER_INK)
CONTRAST_PALETTE = dict(BLUE=(255, 221, 0), BLUE_DARK=(230, 190, 0), WHITE=(0, 0, 0), PAGE=(0, 0, 0),
                        INK=(255, 255, 255), INK_SOFT=(255, 255, 255), DISABLED_BG=(30, 30, 30),
                        DISABLED_INK=(225, 225, 225), GREEN=(120, 255, 120), RED=(255, 150, 150),
                        AMBER_BG=(255, 221, 0), AMBER_INK=(0, 0, 0))
high_contrast = False


def use_palette(contrast_mode: bool) -> None:
    """Switch the colours for widgets built from now on (the app rebuilds its screens)."""
    global high_contrast
    high_contrast = contrast_mode
    globals().update(CONTRAST_PALETTE if contrast_mode else NORMAL_PALETTE)


def rgba(colour: tuple[int, int, int], alpha: float = 1.0) -> tuple[float, float, float, float]:
    return (colour[0] / 255, colour[1] / 255, colour[2] / 255, alpha)


def hex_colour(colour: tuple[int, int, int]) -> str:
    return "%02x%02x%02x" % colour


def relative_luminance(colour: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
