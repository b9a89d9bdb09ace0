"""A dispenser builds its attract screen before the first frame, the screens its visitors meet on every
ticket right after it, and the others on first show, once (issue 17: the staff screens, 预约取号's
keypad and an unused green-channel question cost about 25 MB and start time); a visitor's 长辈模式
builds them again at the new type size like the rest."""

from __future__ import annotations

from dataclasses import replace

import pytest

pytestmark = pytest.mark.ui


def built(h) -> set[str]:
    return {s.name for s in h.sm.screens}


def test_staff_and_rare_screens_wait_until_first_shown(terminal_factory, harness_factory):
    term = terminal_factory()
    term.hall = replace(term.hall, green_channel=False)
    h = harness_factory(term)
    assert built(h) == {"attract", "grid", "ticket", "maintenance"}
    assert h.sm.waiting() == {"priority", "checkin", "pin", "settings", "firstpin"}
    assert all(h.sm.has_screen(name) for name in h.sm.waiting())

    h.sm.current = "checkin"  # what the grid's 预约取号 card does
    h.pump()
    checkin = h.sm.current_screen
    assert checkin.name == "checkin" and "checkin" in built(h) and "checkin" not in h.sm.waiting()
    assert f"{term.now():%H:%M}" in checkin.header.clock_text  # its header's clock runs from its first frame
    h.sm.current = "attract"
    h.sm.current = "checkin"
    assert h.sm.current_screen is checkin  # built once

    h.app.toggle_visitor_style("large")  # a visitor's 长辈模式 rebuilds the visitor screens
    h.pump()
    again = h.sm.get_screen("checkin")
    assert again is not checkin and h.sm.current_screen is again
    assert [s.name for s in h.sm.screens].count("checkin") == 1
    assert "settings" in h.sm.waiting()  # still not built: no visitor asked for it


def test_with_a_green_channel_the_question_is_ready_before_the_first_visitor(terminal_factory, harness_factory):
    term = terminal_factory()
    assert term.hall.green_channel
    h = harness_factory(term)
    assert "priority" in built(h) and "priority" not in h.sm.waiting()


def test_the_pin_pad_opens_from_the_hidden_corner(terminal_factory, harness_factory):
    h = harness_factory(terminal_factory())
    assert "pin" in h.sm.waiting()
    h.sm.current = "grid"
    h.pump()
    h.sm.current_screen.open_settings()  # the hidden long press's end
    h.pump()
    assert h.sm.current == "pin" and "pin" in built(h)


def test_before_the_first_frame_only_the_home_screen_is_built(terminal_factory, harness_factory):
    from wiring.mode_screens import mode_screens

    term = terminal_factory()
    h = harness_factory(term)  # Kivy set up; its App has drawn frames and built the visitors' screens since
    assert {"grid", "ticket", "maintenance"} <= built(h)
    screens, lazy, soon = mode_screens(term)
    assert [s.name for s in screens] == ["attract"]
    assert set(soon) == {"grid", "ticket", "priority"} and set(lazy) == {"grid", "ticket", "priority", "checkin"}
    term.hall = replace(term.hall, green_channel=False)
    assert mode_screens(term)[2] == ("grid", "ticket")


def test_the_embedded_queue_opens_once_on_first_use(terminal_factory):
    """The queue (SQLAlchemy and its SQLite file) opens when first asked for, once, with the appointment
    lane, even when the UI thread and a refresh worker ask at the same moment."""
    import threading

    from kiosk.appointments.checkin import LANE
    from kiosk.queue import QueueEngine

    term = terminal_factory()
    got, start = [], threading.Barrier(4)

    def ask():
        start.wait()
        got.append(term.backend)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(got) == 4 and all(b is got[0] for b in got) and isinstance(got[0], QueueEngine)
    assert [lane.name for lane in got[0].lanes].count(LANE.name) == 1
    assert term.issue("general", wait_for_print=True).number  # and it issues


def test_kiosk_run_draws_its_first_frame_before_opening_the_queue(tmp_path):
    """What `kiosk run` pays before its first frame leaves out SQLAlchemy and the queue's file (issue 17:
    bench/cold_start.py); the App opens them right after."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root), SDL_VIDEODRIVER="offscreen", KIVY_HOME=str(tmp_path / "kivy"),
               KIOSK_DATA_DIR=str(tmp_path / "data"), KIOSK_EXIT_AFTER_FIRST_FRAME="1", KIVY_NO_CONSOLELOG="1")
    out = subprocess.run([sys.executable, "-m", "kiosk", "run", "--windowed", "--size", "800x600"],
                         capture_output=True, text=True, env=env, cwd=root, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("first-frame"))
    assert line.split()[2] == "attract" and line.endswith("queue waiting"), line
