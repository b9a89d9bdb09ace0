"""`kiosk config check`: good files pass, each broken file names file, line and field."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kiosk.paths import SAMPLE_HALL, SAMPLE_TERMINAL

from .cli_inproc import run_kiosk
from .conftest import ROOT

HALL_OK = SAMPLE_HALL.read_text(encoding="utf-8")


def check_process(*files) -> subprocess.CompletedProcess:
    """The installed command, its own process."""
    return subprocess.run([sys.executable, "-m", "kiosk", "config", "check", *map(str, files)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def check(*files) -> subprocess.CompletedProcess:
    """The same main in this process (tests/cli_inproc.py): no Python start-up per file checked."""
    return run_kiosk("config", "check", *files)


def test_shipped_files_are_valid():
    result = check_process(SAMPLE_HALL, SAMPLE_TERMINAL)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def write(tmp_path, text: str, name="hall.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    count = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            count += 1
            if count == occurrence:
                return number
    raise AssertionError(needle)


@pytest.mark.parametrize("mutate, field, message", [
    (lambda t: t.replace('prefix = "B"', 'prefix = "A"'), "services[1].prefix", "duplicate prefix"),
    (lambda t: t.replace('services = ["family"]', 'services = ["family", "fishing"]'),
     "windows[2].services[1]", "unknown service 'fishing'"),
    (lambda t: t.replace('daily_cap = 300', 'daily_cap = "300"', 1), "services[0].daily_cap", "must be an integer"),
    (lambda t: t.replace('icon = "labor"', 'icon = "labor"\ncolour = "red"'), "services[0].colour", "unknown field"),
    (lambda t: t.replace('hours = "08:30-12:00"', 'hours = "8.30-12"'), "services[4].hours", "HH:MM-HH:MM"),
])
def test_broken_hall_names_file_line_field(tmp_path, mutate, field, message):
    text = mutate(HALL_OK)
    path = write(tmp_path, text)
    result = check(path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    name, line, rest = lines[0].split(":", 2)
    assert name == str(path)
    assert f" {field}: " in rest and message in rest
    key = field.rsplit(".", 1)[-1].split("[")[0]
    # the reported line is the line that holds the offending key
    assert key in text.splitlines()[int(line) - 1]
    assert "Traceback" not in result.stderr


def test_syntax_error_reports_its_line(tmp_path):
    text = HALL_OK.replace('name = "劳动保障"', 'name = "劳动保障', 1)
    path = write(tmp_path, text)
    result = check(path)
    assert result.returncode == 1
    broken_line = line_of(text, 'name = "劳动保障')
    assert f"{path}:{broken_line}:" in result.stderr
    assert "TOML syntax error" in result.stderr and "Traceback" not in result.stderr


def test_terminal_file_errors(tmp_path):
    text = SAMPLE_TERMINAL.read_text(encoding="utf-8").replace("baud = 9600", "baud = 9601").replace(
        'mode = "dispenser"', 'mode = "atm"')
    path = write(tmp_path, text, "terminal.toml")
    result = check(path)
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    baud_line, mode_line = line_of(text, "baud = 9601"), line_of(text, 'mode = "atm"')
    assert any(f":{baud_line}: printer.baud: must be one of" in e for e in errors)
    assert any(f":{mode_line}: terminal.mode:" in e for e in errors)


def test_missing_file_and_unknown_section(tmp_path):
    result = check(tmp_path / "nope.toml")
    assert result.returncode == 1 and "file not found" in result.stderr
    path = write(tmp_path, "[terminal]\nmode = \"dispenser\"\n[printr]\nport = \"x\"\n", "t.toml")
    result = check(path)
    assert result.returncode == 1 and f"{path}:3: printr: unknown section" in result.stderr


def test_unbuilt_commands_exit_2():
    from wiring.cli import GROUPS

    unbuilt = []
    for group in GROUPS:
        if "not built yet" in (group.__doc__ or ""):
            unbuilt.append(group.__name__.rsplit(".", 1)[-1])
    for name in unbuilt:
        result = subprocess.run([sys.executable, "-m", "kiosk", name], capture_output=True, text=True,
                                cwd=ROOT, timeout=60)
        assert result.returncode == 2 and "not built yet" in result.stderr


def terminal_naming(tmp_path, hall_path, name="terminal.toml"):
    text = SAMPLE_TERMINAL.read_text(encoding="utf-8")
    assert 'hall_file = ""' in text
    return write(tmp_path, text.replace('hall_file = ""', f'hall_file = "{hall_path}"', 1), name)


def test_a_terminal_file_is_checked_with_the_hall_file_it_names(tmp_path):
    """`check terminal.toml` said OK while the hall file it names was broken."""
    text = HALL_OK.replace('prefix = "B"', 'prefix = "A"')
    hall = write(tmp_path, text, "broken-hall.toml")
    terminal = terminal_naming(tmp_path, hall.name)  # relative to the terminal file's folder
    result = check(terminal)
    assert result.returncode == 1 and "OK" not in result.stdout, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    name, line, rest = lines[0].split(":", 2)
    assert name == str(hall.resolve()) and rest.startswith(" services[1].prefix: duplicate prefix"), lines[0]
    assert "prefix" in text.splitlines()[int(line) - 1]
    # given too, the hall file's error is printed once
    both = check(terminal, hall)
    assert both.returncode == 1 and both.stderr.strip().splitlines() == lines
    # a good hall file: OK
    good = terminal_naming(tmp_path, write(tmp_path, HALL_OK, "good-hall.toml"), "good-terminal.toml")
    result = check(good)
    assert result.returncode == 0 and f"{good}: OK" in result.stdout, result.stderr


def test_a_hall_file_that_does_not_parse_or_is_no_hall(tmp_path):
    text = HALL_OK.replace('name = "劳动保障"', 'name = "劳动保障', 1)
    hall = write(tmp_path, text, "hall.toml")
    result = check(terminal_naming(tmp_path, hall))
    broken_line = line_of(text, 'name = "劳动保障')
    assert result.returncode == 1 and f"{hall}:{broken_line}: -: TOML syntax error" in result.stderr
    other = terminal_naming(tmp_path, SAMPLE_TERMINAL, "t2.toml")  # a terminal file named as the hall file
    result = check(other)
    text = other.read_text(encoding="utf-8")
    assert result.returncode == 1
    assert f"{other}:{line_of(text, 'hall_file =')}: terminal.hall_file: not a hall file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_hall_file_named_as_a_folder_or_out_of_reach(tmp_path):
    """Refused at the terminal file's hall_file line, as `kiosk run` refuses them (tests/test_out_of_service.py).
    Out of reach: a folder on its way the user may not enter gives EACCES, which root never gets; a name longer
    than the file system allows fails the same way (it was a traceback)."""
    (tmp_path / "folder.toml").mkdir()
    for hall, message in (("folder.toml", f"a folder, not a hall file: {tmp_path / 'folder.toml'}"),
                          (f"{'x' * 300}/hall.toml", "cannot read: [Errno 36] File name too long")):
        terminal = terminal_naming(tmp_path, hall)
        result = check(terminal)
        line = line_of(terminal.read_text(encoding="utf-8"), "hall_file =")
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith(f"{terminal}:{line}: terminal.hall_file: {message}"), result.stderr
