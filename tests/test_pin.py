"""Settings PIN: argon2id hash, format rules, five-try lockout that survives restarts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from argon2 import PasswordHasher

from kiosk.pin import (LOCK_SECONDS, MAX_TRIES, STATE_FILE, PinGuard, hash_pin, pin_configured, pin_problem,
                       valid_pin_format)

from .conftest import ROOT

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # same algorithm, test speed


@pytest.fixture
def pin_hash():
    return hash_pin("480317", hasher=FAST)


@pytest.fixture
def guard(tmp_path, pin_hash, clock):
    return PinGuard(tmp_path, pin_hash, clock=clock)


@pytest.mark.parametrize("pin, ok", [
    ("1234", True), ("12345678", True), ("0000", True),
    ("123", False), ("123456789", False), ("", False), ("12a4", False), ("12 34", False),
    (" 1234", False), ("1234\n", False), ("１２３４", False), ("-123", False), ("12.4", False),
])
def test_pin_format(pin, ok):
    assert valid_pin_format(pin) is ok


def test_hash_is_salted_argon2id_and_not_the_pin():
    first, second = hash_pin("482913"), hash_pin("482913")  # strong costs: tests/test_hashing.py
    assert first.startswith("$argon2id$")
    assert "482913" not in first
    assert first != second  # salted
    assert PasswordHasher().verify(first, "482913")
    assert pin_configured(first)


@pytest.mark.parametrize("bad", ["123", "abcd", "", "123456789", "2468", "1234", "12345678", "48031７"])
def test_hash_refuses_bad_format(bad):
    with pytest.raises(ValueError, match="6 digits"):
        hash_pin(bad)


@pytest.mark.parametrize("weak", ["000000", "999999", "123456", "234567", "890123", "654321", "987654", "210987",
                                  "121212", "909090", "123123", "456456"])
def test_new_pins_that_are_guessed_first_are_refused(weak):
    assert pin_problem(weak) and "guessed first" in pin_problem(weak)
    with pytest.raises(ValueError, match="guessed first"):
        hash_pin(weak, hasher=FAST)


@pytest.mark.parametrize("fine", ["480317", "270415", "135792", "112358", "864209"])
def test_six_digit_pins_without_runs_or_repeats_are_taken(fine):
    assert pin_problem(fine) is None
    assert pin_configured(hash_pin(fine, hasher=FAST))


def test_right_pin_opens(guard):
    result = guard.verify("480317")
    assert result.ok and result.locked_until is None and result.tries_left == MAX_TRIES


def test_wrong_pin_counts_down_then_locks(guard, clock):
    for left in (4, 3, 2, 1):
        result = guard.verify("1111")
        assert not result.ok and result.tries_left == left and result.locked_until is None
        assert f"还可以再试 {left} 次" in result.message_zh
    result = guard.verify("1111")
    assert not result.ok and result.tries_left == 0
    assert result.locked_until == clock.now + LOCK_SECONDS
    assert "5 分钟" in result.message_zh


def test_locked_pad_refuses_the_right_pin_until_five_minutes_pass(guard, clock, monkeypatch):
    for _ in range(MAX_TRIES):
        guard.verify("0000")
    checked = []
    monkeypatch.setattr(PinGuard, "_matches", lambda self, pin: checked.append(pin) or True)
    clock.advance(LOCK_SECONDS - 1)
    result = guard.verify("480317")
    assert not result.ok and result.tries_left == 0 and result.locked_until is not None
    assert "1 分钟" in result.message_zh
    assert checked == []  # refused without checking
    monkeypatch.undo()
    clock.advance(1)
    assert guard.verify("480317").ok


def test_expired_lock_gives_a_fresh_set_of_tries(guard, clock):
    for _ in range(MAX_TRIES):
        guard.verify("0000")
    clock.advance(LOCK_SECONDS)
    assert guard.verify("0000").tries_left == MAX_TRIES - 1


def test_success_resets_the_count(guard):
    for _ in range(MAX_TRIES - 1):
        guard.verify("1357")
    assert guard.verify("480317").ok
    for _ in range(MAX_TRIES - 1):
        result = guard.verify("1357")
    assert result.locked_until is None and result.tries_left == 1


def test_restart_during_lockout_stays_locked(tmp_path, pin_hash, clock):
    first = PinGuard(tmp_path, pin_hash, clock=clock)
    for _ in range(MAX_TRIES):
        first.verify("9999")
    clock.advance(60)
    after_restart = PinGuard(tmp_path, pin_hash, clock=clock)
    result = after_restart.verify("480317")
    assert not result.ok and result.locked_until is not None
    assert after_restart.status().locked_until == result.locked_until
    clock.advance(LOCK_SECONDS - 60)
    assert PinGuard(tmp_path, pin_hash, clock=clock).verify("480317").ok


def test_restart_keeps_the_failures_so_far(tmp_path, pin_hash, clock):
    for _ in range(3):
        PinGuard(tmp_path, pin_hash, clock=clock).verify("9999")
    guard = PinGuard(tmp_path, pin_hash, clock=clock)
    assert guard.status().tries_left == 2
    guard.verify("9999")
    assert PinGuard(tmp_path, pin_hash, clock=clock).verify("9999").locked_until is not None


def test_lockout_survives_a_real_process_exit(tmp_path, pin_hash):
    """Five wrong tries in one process; the next process (real clock) is still locked."""
    script = (
        "import sys; from pathlib import Path; from kiosk.pin import PinGuard\n"
        "g = PinGuard(Path(sys.argv[1]), sys.argv[2])\n"
        "for _ in range(5): r = g.verify('1111')\n"
        "print(r.locked_until)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path), pin_hash], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    assert float(out.stdout) > 0
    result = PinGuard(tmp_path, pin_hash).verify("480317")
    assert not result.ok and result.locked_until == pytest.approx(float(out.stdout))


def test_a_try_cut_off_mid_check_still_counts(tmp_path, pin_hash, clock, monkeypatch):
    """Pulling the plug while the hash is checked must not hand out free tries."""
    def power_cut(self, pin):
        raise KeyboardInterrupt

    monkeypatch.setattr(PinGuard, "_matches", power_cut)
    with pytest.raises(KeyboardInterrupt):
        PinGuard(tmp_path, pin_hash, clock=clock).verify("1111")
    monkeypatch.undo()
    assert PinGuard(tmp_path, pin_hash, clock=clock).status().tries_left == MAX_TRIES - 1


def test_state_file_holds_counts_not_pins(guard, tmp_path):
    guard.verify("1357")
    text = (tmp_path / STATE_FILE).read_text()
    assert json.loads(text)["failures"] == 1
    assert "1357" not in text and "480317" not in text


def test_clock_turned_back_never_locks_longer_than_one_period(tmp_path, pin_hash, clock):
    guard = PinGuard(tmp_path, pin_hash, clock=clock)
    for _ in range(MAX_TRIES):
        guard.verify("0000")
    clock.advance(-365 * 24 * 3600)  # RTC lost: booted in last year
    result = guard.verify("480317")
    assert result.locked_until == clock.now + LOCK_SECONDS
    clock.advance(LOCK_SECONDS)
    assert guard.verify("480317").ok


def test_empty_entry_is_not_a_try(guard):
    result = guard.verify("")
    assert not result.ok and result.tries_left == MAX_TRIES and "请输入" in result.message_zh


@pytest.mark.parametrize("stored", ["", "480317", "not-a-hash"])
def test_no_pin_configured_never_opens(tmp_path, stored, clock):
    guard = PinGuard(tmp_path, stored, clock=clock)
    for attempt in ("480317", "0000", stored):
        result = guard.verify(attempt)
        assert not result.ok
        assert "kiosk terminal set-pin" in result.message_zh
    assert not guard.configured
    assert not (tmp_path / STATE_FILE).exists()


def test_reset_clears_a_lock(guard):
    for _ in range(MAX_TRIES):
        guard.verify("0000")
    guard.reset()
    assert guard.verify("480317").ok


def test_damaged_state_file_does_not_break_the_pad(guard, tmp_path):
    (tmp_path / STATE_FILE).write_text("{not json")
    assert guard.verify("480317").ok
