"""Crash records: 3 crashes within 10 minutes is a crash loop; kept across restarts, bounded."""

from __future__ import annotations

import json

from kiosk.crash import FILE_NAME, KEEP, LOOP_WINDOW_S, MAX_TRACEBACK_CHARS, CrashLog

TB = 'Traceback (most recent call last):\n  File "screens/grid.py", line 9, in on_tap\nKeyError: \'A\'\n'


def test_one_or_two_crashes_are_not_a_loop(tmp_path, clock):
    log = CrashLog(tmp_path, clock=clock)
    assert log.record(TB) is False
    clock.advance(60)
    assert log.record(TB) is False
    assert not log.in_loop()


def test_third_crash_within_ten_minutes_is_a_loop(tmp_path, clock):
    log = CrashLog(tmp_path, clock=clock)
    log.record(TB)
    clock.advance(4 * 60)
    log.record(TB)
    clock.advance(5 * 60 + 59)
    assert log.record(TB) is True
    assert log.in_loop()


def test_crashes_spread_over_more_than_ten_minutes_are_not_a_loop(tmp_path, clock):
    log = CrashLog(tmp_path, clock=clock)
    results = []
    for _ in range(6):
        results.append(log.record(TB))
        clock.advance(LOOP_WINDOW_S / 2 + 1)
    assert results == [False] * 6


def test_the_loop_ends_by_itself(tmp_path, clock):
    log = CrashLog(tmp_path, clock=clock)
    for _ in range(3):
        log.record(TB)
        clock.advance(10)
    assert log.in_loop()
    clock.advance(LOOP_WINDOW_S - 30)  # the first crash drops out of the window
    assert not log.in_loop()


def test_a_restarted_app_sees_earlier_crashes(tmp_path, clock):
    CrashLog(tmp_path, clock=clock).record(TB)
    CrashLog(tmp_path, clock=clock).record(TB)
    assert CrashLog(tmp_path, clock=clock).record(TB) is True


def test_recent_health_and_summary(tmp_path, clock):
    log = CrashLog(tmp_path, clock=clock)
    log.record("old\nValueError: x\n")
    clock.advance(LOOP_WINDOW_S + 1)
    log.record(TB)
    recent = log.recent()
    assert len(recent) == 1 and recent[0].traceback == TB and recent[0].at == clock.now
    assert recent[0].summary == "KeyError: 'A'"
    assert log.health() == {"crash_loop": False, "crashes_10min": 1, "last_crash_at": clock.now,
                            "last_error": "KeyError: 'A'"}
    assert [c.summary for c in log.all()] == ["ValueError: x", "KeyError: 'A'"]


def test_torn_last_line_is_skipped(tmp_path, clock):
    log = CrashLog(tmp_path, clock=clock)
    log.record(TB)
    with open(tmp_path / FILE_NAME, "a") as f:
        f.write('{"at": 17000, "traceb')  # power cut mid-append
    assert len(log.all()) == 1
    log.record(TB)
    assert len(log.all()) == 2


def test_file_stays_bounded_and_keeps_the_newest(tmp_path, clock):
    log = CrashLog(tmp_path, clock=clock)
    for i in range(5 * KEEP):
        clock.advance(1)
        log.record(f"Traceback\nRuntimeError: crash {i}\n")
    lines = (tmp_path / FILE_NAME).read_text().splitlines()
    assert KEEP <= len(lines) < 2 * KEEP
    assert log.all()[-1].summary == f"RuntimeError: crash {5 * KEEP - 1}"
    assert all(json.loads(line)["at"] for line in lines)


def test_long_traceback_keeps_its_end(tmp_path, clock):
    log = CrashLog(tmp_path, clock=clock)
    log.record("x" * (3 * MAX_TRACEBACK_CHARS) + "\nMemoryError\n")
    kept = log.all()[0]
    assert len(kept.traceback) == MAX_TRACEBACK_CHARS and kept.summary == "MemoryError"


def test_no_crashes_no_file(tmp_path, clock):
    log = CrashLog(tmp_path / "data", clock=clock)
    assert log.recent() == [] and not log.in_loop()
    assert log.health()["last_crash_at"] is None
