"""Change settings in a terminal file: validated, atomic, logged, comments kept.

The settings screen and ``kiosk terminal`` commands go through ``apply_settings``.
The new text is written to a temp file next to the real one and checked there by
``kiosk.config.check_file`` (the very check ``kiosk config check`` runs, with
relative paths resolving the same way); only a clean file is renamed over the old.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import tomlkit
from tomlkit.exceptions import TOMLKitError

from . import paths
from .atomic import write_atomic
from .config import ConfigError, ConfigInvalid, TerminalConfig, check_file, load_terminal
from .hall_file import load_hall
from .terminal_model import setting_default, setting_names

SECRETS = frozenset({"server.token", "security.pin_hash"})
SETTINGS_LOG = "settings.log"
LOG_MAX_BYTES = 1_000_000  # one old copy is kept as settings.log.1

DEPLOYED_TERMINAL_FILE = Path("/etc/hall-kiosk/terminal.toml")  # made by deploy/install.sh

log = logging.getLogger(__name__)


def default_terminal_file() -> Path:
    """The terminal file the ``kiosk terminal`` commands use without ``--config``.

    ``$KIOSK_CONFIG``; else ``/etc/hall-kiosk/terminal.toml`` when it exists (a box
    set up by deploy/install.sh, so ``sudo kiosk terminal ...`` finds it); else the
    user's ``$XDG_CONFIG_HOME/hall-kiosk/terminal.toml`` (~/.config/...).
    """
    env = os.environ.get("KIOSK_CONFIG")
    if env:
        return Path(env).expanduser()
    if DEPLOYED_TERMINAL_FILE.exists():
        return DEPLOYED_TERMINAL_FILE
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hall-kiosk" / "terminal.toml"



def ensure_terminal_file(path: Path) -> Path:
    """Create ``path`` from the shipped defaults when it does not exist; return it.

    Run as root, a new file is given to the owner of its folder, so the kiosk user
    can still read the file root created for it.
    """
    path = Path(path)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomic(path, paths.SAMPLE_TERMINAL.read_bytes(), exclusive=True)
    except FileExistsError:
        return path
    _give_to_folder_owner(path)
    log.info("created %s from the shipped defaults", path)
    return path


def _give_to_folder_owner(path: Path) -> None:
    """As root, hand a file we just created to the owner of its folder (the kiosk user)."""
    if os.geteuid() == 0:
        folder = path.parent.stat()
        os.chown(path, folder.st_uid, folder.st_gid)


def apply_settings(path: Path, changes: dict[str, object], *, log_dir: Path) -> TerminalConfig:
    """Set ``changes`` ({"printer.port": "/dev/ttyUSB0", ...}) in the terminal file at ``path``.

    Raises ConfigInvalid (naming file, line and field) and writes nothing when a key
    is unknown, a value has the wrong type or the resulting file fails the check.
    Returns the configuration as loaded from the new file.
    """
    path = Path(path)
    with _locked(path.parent):
        _remove_stale_temps(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigInvalid([ConfigError(str(path), 0, "-", "file not found")]) from None
        try:
            doc = tomlkit.parse(text)
        except TOMLKitError as exc:
            raise ConfigInvalid([ConfigError(str(path), getattr(exc, "line", 1), "-",
                                              f"TOML syntax error: {exc}")]) from None
        done = _edit(doc, path, changes)
        if done:
            new_text = tomlkit.dumps(doc)
            _write_checked(path, new_text.encode("utf-8"))
        after = load_terminal(path)
    if done:
        _log_changes(Path(log_dir), path, done, _hall_zone(after))
    return after


def _edit(doc, path: Path, changes: dict[str, object]) -> list[tuple[str, object, object]]:
    """Apply ``changes`` to the tomlkit document; [(field, old, new)] for those that differ."""
    errors, done = [], []
    for name, value in changes.items():
        section, _, key = name.partition(".")
        if name not in setting_names():
            errors.append(ConfigError(str(path), 0, name, f"unknown setting (known: {', '.join(setting_names())})"))
            continue
        if isinstance(value, Path):
            value = str(value)
        if not isinstance(value, (str, int, float, bool)):
            errors.append(ConfigError(str(path), 0, name, f"cannot store {value!r} in the file"))
            continue
        if section not in doc:
            doc.add(section, tomlkit.table())
        table = doc[section]
        if not isinstance(table, (tomlkit.items.Table, tomlkit.items.InlineTable)):
            errors.append(ConfigError(str(path), 0, section, "must be a table"))
            continue
        old = table[key].unwrap() if key in table else setting_default(name)
        if key in table and type(old) is type(value) and old == value:
            continue
        _set_keeping_comment(table, key, value)
        done.append((name, old, value))
    if errors:
        raise ConfigInvalid(errors)
    return done


def _set_keeping_comment(table, key: str, value: object) -> None:
    """Replace a value; a trailing comment stays in its column where there is room."""
    old = table.get(key) if key in table else None
    old_width = len(old.as_string()) if old is not None else 0
    table[key] = value
    if old is not None and old.trivia.comment:
        new = table[key]
        gap = len(old.trivia.comment_ws) + old_width - len(new.as_string())
        new.trivia.comment_ws = " " * max(1, gap)


def _write_checked(path: Path, data: bytes) -> None:
    """Check the temp file that is about to become ``path``; rename it only when clean."""

    def check(temp: Path) -> None:
        errors = check_file(temp, hall=False)  # its own settings; the hall file is not written here
        if errors:
            raise ConfigInvalid([replace(e, file=str(path)) for e in errors])

    write_atomic(path, data, check=check)


def _remove_stale_temps(path: Path) -> None:
    """Temp files left by a writer killed mid-write (we hold the lock: none is live)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One writer at a time (the app and a CLI command may both change the file)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _shown(name: str, value: object) -> str:
    if name in SECRETS and value:
        return "***"
    return json.dumps(value, ensure_ascii=False)


def _hall_zone(config: TerminalConfig) -> ZoneInfo:
    """The hall's time zone (from the terminal's hall file), for stamps staff read."""
    try:
        return ZoneInfo(load_hall(config.hall_file).timezone)
    except Exception:  # an unreadable hall file must not stop a setting from being logged
        return ZoneInfo("Asia/Shanghai")


def _log_changes(log_dir: Path, path: Path, done: list[tuple[str, object, object]],
                 zone: ZoneInfo | None = None) -> None:
    """One line per change: time (in the hall's zone), field, old and new value (secrets masked)."""
    stamp = datetime.now(zone or ZoneInfo("Asia/Shanghai")).isoformat(timespec="seconds")
    lines = [f"{stamp} {name}: {_shown(name, old)} -> {_shown(name, new)} ({path})\n"
             for name, old, new in done]
    for line in lines:
        log.info("setting changed: %s", line.split(" ", 1)[1].rstrip())
    try:
        if not log_dir.exists():
            log_dir.mkdir(parents=True)
            _give_to_folder_owner(log_dir)
        target = log_dir / SETTINGS_LOG
        if target.exists() and target.stat().st_size > LOG_MAX_BYTES:
            os.replace(target, log_dir / (SETTINGS_LOG + ".1"))
        new = not target.exists()
        with open(target, "a", encoding="utf-8") as f:
            f.writelines(lines)
            f.flush()
            os.fsync(f.fileno())
        if new:
            _give_to_folder_owner(target)
    except OSError as exc:  # the change is made; a log we cannot write must not undo it
        log.error("cannot write %s: %s", log_dir / SETTINGS_LOG, exc)
