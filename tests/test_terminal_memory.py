"""A dispenser's memory costs that a change could bring back (issue 17; not timed: the figures are
`bench/memory.py`'s).

The first tests read one run of the shipped embedded dispenser (`kiosk run` with no config: the queue on a
SQLite file, the preview printer) in a process of its own (under strace where installed), on the
offscreen window, through one real tap on 综合受理 until its ticket is printed.

- The font file is opened once per face: SDL_ttf opens it for each (whole-pixel size, bold) face a
  label asks for, Pillow once for the receipt picture. Counted with strace, which sees the C
  libraries' opens (an audit hook on ``open`` sees only Python's, and no font is opened there).
- python-escpos (with its YAML capabilities and barcode modules) is not loaded on that path, nor the
  server's web stack, HTTP clients or SQLAlchemy's ORM. SQLAlchemy's Core is: it is the embedded queue's
  store (``kiosk/storage/``), as on the hall server (about 14 MB of the dispenser's resident memory,
  pydantic and the file models about 9-13 MB: ``bench/memory.py``'s gap to its baseline is mostly these).
- No label keeps the SDL surface its text was drawn into (a second copy of its pixels, about 10 MB over
  the dispenser's screens: ``screens/kivy_fixes.py``); the taps of the benches (``bench/dispenser_taps.py``,
  which this child drives) load neither pytest nor pygments.
- No screen's timeout warning is built before it is first shown (``screens/base.py``).
- No face of the font is opened for a size no label draws (spacers are Widgets, the ticket's number is
  sized on its shown screen), and the maintenance page draws nothing before it is shown.

The others drive the dispenser's screens in this process (``ui``): tickets leave no Kivy callbacks and no new
entries in the screens' text caches (keyed by digit shape, so new waiting counts reuse them); the header's
title and clock are one texture each over all screens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys
from bench.dispenser_taps import Dispenser, environment, side_main

def run():
    environment("kiosk-test-memory-")
    asked = set()
    from wiring.kivy_setup import prepare_kivy
    prepare_kivy(windowed=True, size=(1280, 720))
    from kivy.core.text.text_sdl2 import LabelSDL2
    keyed = LabelSDL2._get_font_id

    def observed(self):  # every face a label asks SDL_ttf for, as SDL_ttf opens it
        asked.add((int(self.options["font_size"]), bool(self.options["bold"])))
        return keyed(self)

    LabelSDL2._get_font_id = observed
    app = Dispenser((1280, 720))
    app.tap()
    from devices.printer import png
    import gc
    from kivy.core.text import LabelBase
    cores = [o for o in gc.get_objects() if isinstance(o, LabelBase)]
    from kivy.uix.label import Label
    labels = [w for screen in app.h.sm.screens for w in screen.walk() if isinstance(w, Label)]
    drawn = {(int(w.font_size), bool(w.bold)) for w in labels}
    hint = app.h.sm.get_screen("ticket").number_size_hint()  # the size the number is tried at first
    needed = drawn | {(hint, True)}
    needed |= {(size, False) for size, _ in needed}  # a bold label's glyphs come from the regular face of its size
    result = {"unneeded_faces": sorted(asked - needed),
              "empty_labels_at_kivy_size": sum(1 for w in labels if not w.text and w.font_size == Label().font_size),
              "maintenance_drawn": sum(1 for w in app.h.sm.get_screen("maintenance").layout.walk()
                                       if isinstance(w, Label) and w.texture is not None),
              "labels": sum(1 for o in cores if o.texture is not None and o.texture.width > 1),
              "kept_surfaces": sum(1 for o in cores if getattr(o, "_surface", None) is not None),
              "warnings_built": sum(1 for o in gc.get_objects() if type(o).__name__ == "WarningOverlay"),
              "sdl_faces": len(asked), "pillow_faces": png._font.cache_info().currsize,
              "printed": app.tickets_saved(),
              # what a dispenser with no server never uses: python-escpos (with its YAML capabilities and barcode
              # modules), the server's web stack and HTTP clients, SQLAlchemy's ORM (the store is Core: +6 MB),
              # the test tools Kivy's kivy.tests.common would bring (pytest, pygments: 8-10 MB)
              "loaded": sorted(m for m in sys.modules
                               if m.split(".")[0] in ("escpos", "yaml", "barcode", "fastapi", "starlette", "uvicorn",
                                                      "httpx", "requests", "server", "pytest", "pygments")
                               or m in ("sqlalchemy.orm", "kivy.tests.common")),
              "sqlalchemy": "sqlalchemy" in sys.modules}
    app.close()
    return result

side_main(run)
"""


def _run_child(tmp_path: Path, strace_log: Path | None = None) -> dict:
    cmd = [sys.executable, "-c", CHILD]
    if strace_log is not None:
        cmd = ["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", str(strace_log), *cmd]
    env = dict(os.environ, PYTHONPATH=str(ROOT), SDL_VIDEODRIVER="offscreen", KIVY_HOME=str(tmp_path / "kivy"))
    env.pop("KIOSK_DATA_DIR", None)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def one_tap(tmp_path_factory) -> tuple[dict, Path | None]:
    """The child run once for both tests: under strace where it is installed (the font test reads its log;
    the module check needs no strace and reads the same result), its strace log or None."""
    tmp = tmp_path_factory.mktemp("memory")
    log = tmp / "strace.log" if shutil.which("strace") else None
    return _run_child(tmp, log), log


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is installed by scripts/setup.sh --test")
def test_the_font_file_is_opened_once_per_face_from_start_to_the_first_ticket(one_tap):
    from kiosk.paths import FONT_PATH

    result, log = one_tap
    assert result["printed"] == 1
    opens = [line for line in log.read_text(errors="replace").splitlines()
             if str(FONT_PATH) in line and "= -1" not in line]
    assert result["pillow_faces"] == 1  # one face for the picture, magnified like the printer does
    # before issue 17: 51 opens for 23 faces (32, 32.0 and 32.4 were three faces of one size)
    assert len(opens) == result["sdl_faces"] + result["pillow_faces"], (len(opens), result)


def test_no_face_is_opened_for_a_size_no_label_draws(one_tap):
    """Each face costs about 0.24 MB for the app's life. Three were opened for nothing: Kivy's default 15 px
    (empty Labels as the attract screen's spacers, and the ticket's number before it was first sized), 80 px
    (the number drawn at its floor on the never-shown ticket screen, then again when shown) and 24 px (the
    number's face warmed at 27% of the never-shown screen's 100 px)."""
    result, _ = one_tap
    assert result["printed"] == 1
    assert result["unneeded_faces"] == []
    assert result["empty_labels_at_kivy_size"] == 0  # a spacer is a Widget


def test_the_maintenance_page_draws_nothing_before_it_is_shown(one_tap):
    """Built soon after start for a crash, the maintenance page drew its two texts at start and its 96 px
    heading opened two faces (about 0.5 MB for a page seldom seen); it draws them when shown
    (tests/test_settings_ui.py shows it after a crash, with its heading)."""
    result, _ = one_tap
    assert result["printed"] == 1
    assert result["maintenance_drawn"] == 0


def test_the_dispenser_path_loads_nothing_it_never_needs(one_tap):
    result, _ = one_tap
    assert result["printed"] == 1
    assert result["loaded"] == []
    assert result["sqlalchemy"]  # the embedded queue's store; if this changes, say so in the module docstring


def test_labels_keep_no_second_copy_of_their_pixels(one_tap):
    result, _ = one_tap
    assert result["labels"] >= 30  # the attract, grid and ticket screens' text, drawn
    assert result["kept_surfaces"] == 0  # Kivy's SDL2 provider kept one per label


def test_no_timeout_warning_is_built_before_one_is_shown(one_tap):
    """Each visitor screen's timeout warning (a card, two labels, a button) is built when first shown:
    five unused ones cost the dispenser about 1.2 MB."""
    result, _ = one_tap
    assert result["printed"] == 1
    assert result["warnings_built"] == 0


@pytest.mark.ui
def test_centred_labels_draw_the_same_pixels_from_narrow_textures(terminal_factory, harness_factory):
    """A centred label that wraps at its width gets a texture as wide as its text (``screens/kivy_fixes.py``):
    the attract screen, in both orientations, is the same picture as from Kivy's full-width textures."""
    from kivy.core.text import LabelBase
    from kivy.core.text.markup import MarkupLabel
    from kivy.uix.label import Label
    from PIL import ImageChops

    h = harness_factory(terminal_factory())
    attract = h.sm.get_screen("attract")
    narrow, narrow_markup = LabelBase.render, MarkupLabel.render
    assert narrow.wide is not None and narrow_markup.wide is not None
    for size in ((1920, 1080), (1080, 1920)):
        h.resize(size)
        clock = attract.time  # "09:00" at 150 px, as wide as the screen
        hint = attract.hint  # Chinese: drawn through the markup core (screens.widgets.Label)
        h.settle()
        assert 0 < clock.texture_size[0] < clock.width / 2, (clock.texture_size, clock.width)
        assert isinstance(hint._label, MarkupLabel) and hint.texture_size[0] < hint.width - 2
        narrow_picture = h.picture()
        labels = [w for w in attract.walk() if isinstance(w, Label)]
        try:
            LabelBase.render, MarkupLabel.render = narrow.wide, narrow_markup.wide
            for label in labels:
                label.texture_update()
            assert clock.texture_size[0] == int(clock.width) and hint.texture_size[0] == int(hint.width)
            wide_picture = h.picture()
        finally:
            LabelBase.render, MarkupLabel.render = narrow, narrow_markup
            for label in labels:
                label.texture_update()
        assert ImageChops.difference(narrow_picture, wide_picture).getbbox() is None, size


def _kivy_callbacks() -> int:
    import gc

    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o).__name__ == "BoundCallback")


def _text_cache_entries() -> dict[str, int]:
    """The entries of the screens' caches of visitor text (line-break pieces, card text heights)."""
    from screens.dispenser import grid
    from screens.widgets import basic

    return {"line_breaks": basic._run_lengths.cache_info().currsize,
            "text_heights": grid._text_height.cache_info().currsize}


@pytest.mark.ui
def test_tickets_leave_no_kivy_callbacks_or_text_cache_entries_behind(terminal_factory, harness_factory):
    """Each ticket used to make two spacer widgets per print state for the ticket screen's buttons; each new
    widget left callbacks in Kivy that nothing frees (5 a ticket in bench/memory.py's run, part of its growth).
    Each ticket's new waiting count (the grid card's "等候 N 人 · 约 M 分钟") used to add an entry to the line
    breaks' cache and one to the card heights' (about 0.6 MB per 1,000 tickets until they were full): both are
    keyed by the text's digit shape now, so a new count of the same number of digits adds nothing."""
    terminal = terminal_factory()
    h = harness_factory(terminal)
    ticket = h.sm.get_screen("ticket")
    for _ in range(8):  # waiting counts of two digits from the first tickets of the test on
        terminal.issue("general", None)

    def one() -> None:
        h.sm.current = "grid"
        h.pump(1)
        ticket.issue("general", None)
        assert h.wait(lambda: ticket.outcome.print_state == "printed")
        h.pump(1)

    for _ in range(6):  # the first tickets' one-off costs (faces, textures, imports, a screen built late:
        one()           # 12 callbacks once in a CI worker, 0 alone)
    before, cached = _kivy_callbacks(), _text_cache_entries()
    waiting = h.sm.get_screen("grid")._card_by_code["general"].detail
    for _ in range(5):
        one()
    left = _kivy_callbacks() - before
    assert left <= 1, f"{left} callbacks left by 5 tickets"  # 88 for these 5 with new spacers each time
    assert h.sm.get_screen("grid")._card_by_code["general"].detail != waiting  # the counts did change
    assert _text_cache_entries() == cached  # before issue 17's shapes: 5 more entries in each


def test_line_breaks_of_new_counts_reuse_their_shape():
    """``wrappable`` breaks "等候 N 人" for every N as it breaks N's own text, from one cache entry per
    number of digits (it had one per count: a day of tickets filled it with counts)."""
    from kivy.utils import escape_markup

    from screens.widgets import basic

    basic._run_lengths.cache_clear()
    for n in range(1, 1000):
        text = f"等候\u00a0{n}\u00a0人 · 约 {n * 3} 分钟"
        assert basic.wrappable(text) == "[b][/b]".join(escape_markup(r) for r in basic.break_runs(text))
    # the digits of (count, wait): (1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4): six shapes for 999 counts
    assert basic._run_lengths.cache_info().currsize == 6, basic._run_lengths.cache_info()


@pytest.mark.ui
def test_the_header_title_and_clock_are_drawn_once_for_every_screen(terminal_factory, harness_factory):
    """The hall header's title and clock, the same on every screen, were drawn into a texture per screen
    (about 0.9 MB at 1920x1080 over the dispenser's screens); they share one each (``SharedLabel``), also
    after the minute changes, and the screen shown looks as when each label draws its own."""
    from datetime import timedelta

    from PIL import ImageChops

    terminal = terminal_factory()
    h = harness_factory(terminal)
    names = ("grid", "ticket", "attract")  # each shown once, so laid out at the window's size
    for name in names:
        h.sm.current = name
        h.pump(2)
    screens = [h.sm.get_screen(n) for n in names]

    def textures(part: str) -> set[int]:
        return {id(s.header.ids[part].texture) for s in screens}

    for minutes in (0, 1):
        if minutes:  # what the app's clock does each minute: every screen's header, the shown one too
            now = terminal.now() + timedelta(minutes=1)
            for screen in h.sm.screens:
                screen.tick_clock(now)
        shared = h.frame()
        assert len(textures("title")) == 1 and len(textures("clock")) == 1, minutes  # 3 and 3 before
        clock = h.sm.get_screen("attract").header.ids.clock
        assert clock.text.endswith(f"{now:%H:%M}" if minutes else clock.text[-5:])
        labels = [s.header.ids[part] for s in screens for part in ("title", "clock")]
        try:
            for label in labels:  # each drawing its own, as a plain Label does
                label.shared = ""
                label.texture_update()
            assert len(textures("clock")) == 3
            own = h.frame()
        finally:
            for label, part in zip(labels, ("title", "clock") * 3):
                label.shared = f"header-{part}"
                label.texture_update()
        assert ImageChops.difference(shared, own).getbbox() is None, minutes
