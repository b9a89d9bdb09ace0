"""Contrast of the colour pairs used for numbers, button labels and body text (PRODUCT.md 5)."""

from screens import theme


def test_strong_pairs_reach_7_to_1():
    pairs = {
        "ticket number / page": (theme.BLUE, theme.PAGE),
        "button label": (theme.WHITE, theme.BLUE),
        "button pressed": (theme.WHITE, theme.BLUE_DARK),
        "service name": (theme.INK, theme.WHITE),
        "disabled service reason": (theme.DISABLED_INK, theme.DISABLED_BG),
        "paused banner": (theme.WHITE, theme.RED),
        "countdown": (theme.AMBER_INK, theme.AMBER_BG),
        "header": (theme.WHITE, theme.BLUE),
        "printed ok": (theme.GREEN, theme.PAGE),
        "print failed": (theme.RED, theme.PAGE),
    }
    for name, (fg, bg) in pairs.items():
        assert theme.contrast(fg, bg) >= 7.0, name


def test_contrast_formula_on_known_values():
    assert round(theme.contrast((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert round(theme.contrast((119, 119, 119), (255, 255, 255)), 2) == 4.48


def test_evaluator_level_colours_keep_white_text_readable():
    from screens.evaluator import LEVEL_STYLE

    for level, (colour, _face) in LEVEL_STYLE.items():
        assert theme.contrast(theme.WHITE, colour) >= 7.0, level


def test_high_contrast_palette_pairs_reach_10_to_1():
    p = theme.CONTRAST_PALETTE
    pairs = {
        "ticket number / page": (p["BLUE"], p["PAGE"]),
        "button label": (p["WHITE"], p["BLUE"]),
        "button pressed": (p["WHITE"], p["BLUE_DARK"]),
        "text on a card": (p["INK"], p["WHITE"]),
        "secondary text": (p["INK_SOFT"], p["WHITE"]),
        "disabled": (p["DISABLED_INK"], p["DISABLED_BG"]),
        "paused banner": (p["WHITE"], p["RED"]),
        "printed ok": (p["GREEN"], p["PAGE"]),
        "print failed": (p["RED"], p["PAGE"]),
    }
    for name, (fg, bg) in pairs.items():
        assert theme.contrast(fg, bg) >= 10.0, name
    from screens.evaluator import LEVEL_CONTRAST

    for level, colour in LEVEL_CONTRAST.items():
        assert theme.contrast((255, 255, 255), colour) >= 10.0, level


def test_use_palette_switches_and_restores():
    theme.use_palette(True)
    try:
        assert theme.PAGE == (0, 0, 0) and theme.high_contrast
    finally:
        theme.use_palette(False)
    assert theme.PAGE == theme.NORMAL_PALETTE["PAGE"] and not theme.high_contrast
