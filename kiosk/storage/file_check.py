"""Is a terminal's SQLite file usable? Checked once at start-up, before the screen, reading only.

A terminal keeps its queue, its offline outbox and sync state, ratings and appointments in one SQLite
file in its data folder (``queue.db``: the embedded queue, ``kiosk/terminal_build.py``, and the hall
server client's local queue and outbox, ``kiosk/sync/backend.py``). The embedded queue is opened only
after the first frame (its imports cost a fifth of a start), so a file that is not a database, or a
truncated one, used to fail there: a crash loop behind the maintenance page instead of a refusal.

``check_terminal_stores`` opens each file read only (``mode=ro``: no write, no checkpoint, no journal
change; SQLite may add the ``-shm`` index beside a WAL file, never touches the file itself) and runs
``PRAGMA quick_check``, which reads every page: garbage, a torn header, a file cut short, a broken
b-tree. A missing or empty file is fine (the terminal creates it). The answer names the file and what
to do; nothing is moved, repaired or deleted here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

STORE_FILES = ("queue.db",)


class UnusableStore(Exception):
    """A store's file cannot be used: ``str()`` is the one line for the person at the terminal."""

    def __init__(self, path: Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(
            f"{self.path}: not a usable SQLite database ({reason}); the terminal did not start and changed "
            f"nothing. Move it aside with its -wal and -shm files (e.g. mv {self.path} {self.path}.broken), then "
            f"put back a good copy, or start with a new empty queue (the tickets in it are not carried over) "
            f"/ 数据文件损坏，终端未启动")


def check_sqlite_file(path: Path) -> None:
    """Raise ``UnusableStore`` unless ``path`` is missing, empty or a whole SQLite database."""
    path = Path(path)
    try:
        if path.is_dir():  # SQLite would say only "disk I/O error"
            raise UnusableStore(path, "a folder, not a file")
        if path.stat().st_size == 0:
            return
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UnusableStore(path, exc.strerror or str(exc)) from None
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise UnusableStore(path, str(exc)) from None
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        raise UnusableStore(path, str(exc)) from None
    finally:
        conn.close()
    if problems != ["ok"]:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise UnusableStore(path, f"{problems[0]}{more}")


def check_terminal_stores(data_dir: Path) -> None:
    """Raise ``UnusableStore`` for the first of the terminal's store files in ``data_dir`` that is unusable."""
    for name in STORE_FILES:
        check_sqlite_file(Path(data_dir) / name)
