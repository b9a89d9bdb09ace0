"""A terminal whose queue.db is broken refuses to start, before its screen, with one line naming the file
and what to do; it changes nothing in the file (``kiosk/storage/file_check.py``). It used to draw its first
frame, then fail opening the queue, over and over (a crash loop behind the maintenance page).

Real SQLite files: the queue a terminal really wrote (tickets issued through its engine), cut short; and
garbage. The real CLI: in this process (tests/cli_inproc.py) and one real ``python -m kiosk run``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.storage.file_check import UnusableStore, check_sqlite_file

from .cli_inproc import run_kiosk
from .conftest import ROOT


def _real_queue(terminal_factory, tickets: int = 60, close: bool = True) -> Path:
    """The queue.db of a terminal that issued ``tickets`` tickets (closed: its WAL checkpointed into it)."""
    term = terminal_factory()
    for _ in range(tickets):
        term.backend.issue("general")
    path = Path(term.config.data_dir) / "queue.db"
    if close:
        term.close()
    return path


def _garbage(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(range(256)) * 32)  # 8 KB that are no database: not even its header
    return path


def _truncated(path: Path) -> Path:
    data = path.read_bytes()
    assert len(data) >= 4 * 4096, len(data)  # several pages: the cut loses some of its tables' pages
    path.write_bytes(data[: len(data) // 2])
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _env(tmp_path: Path, data: Path) -> dict:
    """``kiosk run`` headless on ``data``; if it ever got as far as its first frame, it would stop there."""
    return {"KIOSK_DATA_DIR": str(data), "HOME": str(tmp_path / "home"), "KIOSK_CONFIG": None,
            "XDG_CONFIG_HOME": None, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(tmp_path / "kivy"),
            "KIOSK_EXIT_AFTER_FIRST_FRAME": "1", "KIVY_NO_CONSOLELOG": "1"}


def _refused(result: subprocess.CompletedProcess, path: Path) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"kiosk: {path}: not a usable SQLite database (")
    assert f"mv {path} {path}.broken" in lines[0] and "数据文件损坏" in lines[0]
    assert "Traceback" not in result.stderr and "first-frame" not in result.stdout


def test_a_whole_queue_passes_and_a_broken_one_is_named(terminal_factory, tmp_path):
    healthy = _real_queue(terminal_factory)
    check_sqlite_file(healthy)
    check_sqlite_file(tmp_path / "absent.db")  # a first start: the terminal creates it
    (tmp_path / "empty.db").write_bytes(b"")
    check_sqlite_file(tmp_path / "empty.db")
    # a terminal that was not closed (a power cut): its latest tickets only in the WAL, read as they are
    live = _real_queue(terminal_factory, tickets=5, close=False)
    assert Path(f"{live}-wal").stat().st_size > 0
    check_sqlite_file(live)

    garbage = _garbage(tmp_path / "g" / "queue.db")
    before = _digest(garbage)
    with pytest.raises(UnusableStore, match="file is not a database"):
        check_sqlite_file(garbage)
    assert _digest(garbage) == before

    folder = tmp_path / "d" / "queue.db"  # a folder where the file should be
    folder.mkdir(parents=True)
    with pytest.raises(UnusableStore, match="a folder, not a file"):
        check_sqlite_file(folder)

    cut = _truncated(healthy)
    before = _digest(cut)
    with pytest.raises(UnusableStore) as caught:
        check_sqlite_file(cut)
    assert caught.value.path == cut and _digest(cut) == before


def test_kiosk_run_refuses_a_broken_queue_before_its_screen(terminal_factory, tmp_path):
    garbage = _garbage(tmp_path / "data" / "queue.db")
    before = _digest(garbage)
    _refused(run_kiosk("run", "--windowed", env=_env(tmp_path, garbage.parent), timeout=60), garbage)
    assert _digest(garbage) == before

    cut = _truncated(_real_queue(terminal_factory))
    before = _digest(cut)
    _refused(run_kiosk("run", env=_env(tmp_path, cut.parent), timeout=60), cut)
    assert _digest(cut) == before


def test_terminal_commands_refuse_a_broken_queue(tmp_path):
    from kiosk.paths import SAMPLE_TERMINAL

    garbage = _garbage(tmp_path / "data" / "queue.db")
    before = _digest(garbage)
    env = _env(tmp_path, garbage.parent)
    for args in (("terminal", "issue", "general", "--config", SAMPLE_TERMINAL),
                 ("terminal", "status", "--config", SAMPLE_TERMINAL)):
        _refused(run_kiosk(*args, env=env, timeout=60), garbage)
    assert _digest(garbage) == before


def test_the_installed_command_refuses_a_broken_queue(tmp_path):
    garbage = _garbage(tmp_path / "data" / "queue.db")
    before = _digest(garbage)
    env = {k: v for k, v in os.environ.items() if k not in ("KIOSK_CONFIG", "XDG_CONFIG_HOME")}
    env.update({k: v for k, v in _env(tmp_path, garbage.parent).items() if v is not None}, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "kiosk", "run", "--windowed"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    _refused(result, garbage)
    assert _digest(garbage) == before
    assert sorted(p.name for p in garbage.parent.iterdir()) == ["queue.db"]  # no log folder: not started at all
