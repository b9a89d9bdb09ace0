"""Backups of the hall database, and putting one back.

- SQLite: the online backup API (``sqlite3.Connection.backup``): a consistent
  copy while the server keeps issuing; checked with ``PRAGMA quick_check``.
- PostgreSQL: ``pg_dump --format=custom`` (``pg_restore`` puts it back); the
  client programs come with Debian's ``postgresql-client``.

Files are ``hall-backup-YYYYMMDD-HHMMSS.sqlite`` / ``.pgdump`` in one folder,
written under a ``.part`` name and renamed when complete, so a folder never
holds a half backup under a real name. ``DailyBackup`` (the server's thread)
makes one a day and keeps the newest ``keep``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from .periodic import Periodic

log = logging.getLogger(__name__)

PREFIX = "hall-backup-"
NAME_RE = re.compile(r"^hall-backup-(\d{8})-(\d{6})\.(sqlite|pgdump)$")


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why, in one line."""


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    return None


def _pg_url(url: str) -> str | None:
    """The libpq form (``postgresql://``) of a PostgreSQL URL, else None."""
    for scheme in ("postgresql+psycopg://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql://" + url[len(scheme):]
    return None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client programs (apt-get install "
                          "postgresql-client)")
    return found


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(url: str, out_dir: Path | str, now: float | None = None) -> Path:
    """Write one backup of the database at ``url`` into ``out_dir``; returns its path."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"{out_dir}: cannot create the folder: {exc.strerror or exc}") from None
    stamp = datetime.fromtimestamp(time.time() if now is None else now).strftime("%Y%m%d-%H%M%S")
    src = _sqlite_path(url)
    if src is not None:
        if not src.is_file():
            raise BackupError(f"{src}: no such database file")
        target = out_dir / f"{PREFIX}{stamp}.sqlite"
        part = target.with_name(target.name + ".part")
        part.unlink(missing_ok=True)
        try:
            source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
            dest = sqlite3.connect(str(part))
            try:
                source.backup(dest, pages=1024)  # in steps: writers are not held up for the whole copy
                dest.execute("PRAGMA journal_mode=DELETE")  # one standalone file, no -wal beside it
                verdict = dest.execute("PRAGMA quick_check").fetchone()[0]
                dest.commit()
            finally:
                dest.close()
                source.close()
        except sqlite3.Error as exc:
            part.unlink(missing_ok=True)
            raise BackupError(f"{src}: backup failed: {exc}") from None
        if verdict != "ok":
            part.unlink(missing_ok=True)
            raise BackupError(f"{src}: the copy failed its check: {verdict}")
    elif (pg := _pg_url(url)) is not None:
        target = out_dir / f"{PREFIX}{stamp}.pgdump"
        part = target.with_name(target.name + ".part")
        done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                               "--file", str(part), "--dbname", pg], capture_output=True, text=True)
        if done.returncode != 0:
            part.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    else:
        raise BackupError(f"{url}: use sqlite:///FILE or postgresql://...")
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, target)
    _fsync_dir(out_dir)
    return target


def _has_tickets_table_rows(url: str) -> bool:
    import sqlalchemy as sa

    from kiosk.storage.db import open_engine

    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            if "tickets" not in sa.inspect(conn).get_table_names():
                return False
            return conn.execute(sa.text("SELECT count(*) FROM tickets")).scalar() > 0
    finally:
        engine.dispose()


def restore(url: str, backup_file: Path | str, force: bool = False) -> None:
    """Put ``backup_file`` back as the database at ``url`` (stop the server first).

    Refuses to overwrite a database that already holds tickets unless ``force``.
    """
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such backup file")
    kind = "sqlite" if backup_file.suffix == ".sqlite" else "pgdump" if backup_file.suffix == ".pgdump" else None
    if kind is None:
        raise BackupError(f"{backup_file}: not a backup made by `kiosk admin backup` (.sqlite or .pgdump)")
    target = _sqlite_path(url)
    pg = _pg_url(url)
    if (kind == "sqlite") != (target is not None) or (target is None and pg is None):
        raise BackupError(f"{backup_file.name} is a {'SQLite' if kind == 'sqlite' else 'PostgreSQL'} backup; "
                          f"--db must be {'sqlite:///FILE' if kind == 'sqlite' else 'postgresql://...'}")
    if target is not None and target.exists() or pg is not None:
        try:
            occupied = _has_tickets_table_rows(url)
        except Exception as exc:  # an unreachable database: say so in one line
            raise BackupError(f"cannot open the database: {str(exc).splitlines()[0]}") from None
        if occupied and not force:
            raise BackupError("the database already holds tickets; stop the server and add --force to replace it")
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
            if source.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{backup_file}: the backup fails its check; it cannot be restored")
            dest = sqlite3.connect(str(target), timeout=30)
            try:
                source.backup(dest)  # replaces every page of the target, in one go
                dest.commit()
            finally:
                dest.close()
                source.close()
        except sqlite3.Error as exc:
            raise BackupError(f"restore into {target} failed: {exc}") from None
        return
    done = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                           "--single-transaction", "--dbname", pg, str(backup_file)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")


def backups(out_dir: Path | str) -> list[Path]:
    """The folder's complete backups, newest first."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    return sorted((p for p in out_dir.iterdir() if NAME_RE.match(p.name)), key=lambda p: p.name, reverse=True)


def rotate(out_dir: Path | str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups (and stale ``.part`` files); returns what went."""
    removed = []
    for old in backups(out_dir)[max(1, keep):]:
        old.unlink(missing_ok=True)
        removed.append(old)
    for part in Path(out_dir).glob(f"{PREFIX}*.part"):
        if time.time() - part.stat().st_mtime > 3600:
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


class DailyBackup(Periodic):
    """The server's backup thread: one backup a (local) day, the newest ``keep`` kept.

    It checks every ``check_s`` seconds whether today's backup exists; the first
    check runs at start, so a server that was down at midnight still backs up.
    """

    thread_name = "daily-backup"

    def __init__(self, url: str, out_dir: Path | str, keep: int = 14, check_s: float = 600.0,
                 clock: Callable[[], float] = time.time):
        if keep < 1:
            raise ValueError("--backup-keep: must be at least 1")
        super().__init__()
        self.url, self.out_dir, self.keep, self.check_s, self.clock = url, Path(out_dir), keep, check_s, clock
        self.last_error = ""

    def due(self) -> bool:
        today = datetime.fromtimestamp(self.clock()).strftime("%Y%m%d")
        return not any(NAME_RE.match(p.name).group(1) == today for p in backups(self.out_dir))

    def run_once(self) -> Path | None:
        if not self.due():
            return None
        try:
            path = backup(self.url, self.out_dir, self.clock())
        except BackupError as exc:
            self.last_error = str(exc)
            log.error("daily backup failed: %s", exc)
            return None
        self.last_error = ""
        gone = rotate(self.out_dir, self.keep)
        log.info("daily backup %s (%d kept, %d removed)", path, min(self.keep, len(backups(self.out_dir))), len(gone))
        return path

