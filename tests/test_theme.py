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
