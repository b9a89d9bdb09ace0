"""Running the server: ``kiosk serve`` and ``python -m server`` both land here."""

from __future__ import annotations

import argparse
import gc
import logging
from pathlib import Path

from kiosk import paths


def default_db_url() -> str:
    return f"sqlite:///{paths.default_data_dir() / 'server.db'}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=None,
                   help="sqlite:///FILE or postgresql://USER@HOST/DB (default: server.db in the data folder, "
                        "$KIOSK_DATA_DIR or ~/.local/share/hall-kiosk)")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0: the hall's LAN)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--hall", metavar="FILE", type=Path, default=None,
                   help="hall file loaded into an empty database (default: the shipped sample hall)")
    p.add_argument("--workers", metavar="N", type=int, default=1,
                   help="server processes behind the one port (default 1; more need PostgreSQL)")
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.add_argument("--backup-dir", metavar="DIR", type=Path, default=None,
                   help="daily database backups go here (default: 'backups' beside a SQLite database; "
                        "PostgreSQL: none unless given)")
    p.add_argument("--backup-keep", metavar="N", type=int, default=14, help="backups kept (default 14)")
    p.add_argument("--no-backup", action="store_true", help="no daily backup")


def backup_dir_for(url: str, given: Path | None, off: bool = False) -> Path | None:
    """Where the server's daily backups go (None: no daily backup)."""
    if off:
        return None
    if given is not None:
        return given
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):]).parent / "backups"
    return None



ENV_DB, ENV_HALL = "KIOSK_SERVE_DB", "KIOSK_SERVE_HALL"  # handed to --workers processes


def settle_heap() -> None:
    """Once the app is built, before the first request: what start-up made (modules, the app, its halls) goes
    out of the collector's reach. Python's oldest-generation collection walks every tracked object, and over
    all of the server's it paused the event loop 44-56 ms each time (8 times in one 15 s run under load), and
    every request in flight waited (bench/server_issue.py: p99 12-52 ms, max 45-68 ms; frozen: gen2 ~3.6 ms,
    p99 10-11 ms, max 16-20 ms). Garbage made later is still collected."""
    gc.collect()
    gc.freeze()


def worker_app():
    """The app of one ``--workers`` process (uvicorn starts each with this factory)."""
    import os

    from .app import create_app

    hall = os.environ.get(ENV_HALL)
    app = create_app(os.environ[ENV_DB], Path(hall) if hall else None)
    settle_heap()
    return app


def serve(db: str | None, host: str, port: int, hall: Path | None, access_log: bool = False,
          backup_dir: Path | None = None, backup_keep: int = 14, no_backup: bool = False, workers: int = 1) -> None:
    """Start the server and block; raises ValueError with a one-line reason on bad settings."""
    from .process_lock import SqliteInUse, hold_sqlite

    if not 0 < port < 65536:
        raise ValueError(f"--port {port}: must be 1-65535")
    url = db or default_db_url()
    if not (url.startswith("sqlite:///") or url.startswith("postgresql://") or url.startswith("postgresql+psycopg://")):
        raise ValueError(f"--db {url}: use sqlite:///FILE or postgresql://...")
    if hall is not None and not hall.is_file():
        raise ValueError(f"--hall {hall}: file not found")
    if not 1 <= backup_keep <= 3650:
        raise ValueError(f"--backup-keep {backup_keep}: must be 1-3650")
    if not 1 <= workers <= 64:
        raise ValueError(f"--workers {workers}: must be 1-64")
    if url.startswith("sqlite") and workers > 1:
        raise ValueError(f"--workers {workers}: SQLite serves one process; use PostgreSQL "
                         "(--db postgresql://...) for several")
    try:
        hold_sqlite(url)  # a second server on the same SQLite file stops here
    except SqliteInUse as exc:
        raise ValueError(f"--db: {exc}") from None
    import uvicorn  # the app's imports after the flags' checks: a bad flag is refused at once

    from kiosk.config import ConfigInvalid

    from .app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(url, hall)
    except ConfigInvalid as exc:
        raise ValueError(f"hall file: {exc.errors[0]}") from None
    except Exception as exc:  # an unreachable database, a bad path: one line, not a traceback
        if type(exc).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
            raise ValueError(f"--db: cannot open the database: {str(exc).splitlines()[0]}") from None
        raise
    county = app.state.county
    rt = county.first
    others = len(county.codes()) - 1
    logging.getLogger("kiosk.serve").info("hall '%s' (%s)%s on %s%s; pages at http://%s:%d/login",
                                          rt.engine.hall.name, rt.code,
                                          f" and {others} more hall(s)" if others else "", url.split("@")[-1],
                                          " (loaded from the hall file)" if county.seeded else "",
                                          "127.0.0.1" if host in ("0.0.0.0", "::") else host, port)

    from .backup import DailyBackup

    folder = backup_dir_for(url, backup_dir, no_backup)
    daily = DailyBackup(url, folder, backup_keep) if folder is not None else None
    if daily is not None:
        daily.start()  # the first check runs now: a server down at midnight still backs up today
        logging.getLogger("kiosk.serve").info("daily backup into %s, %d kept", folder, backup_keep)
    else:
        logging.getLogger("kiosk.serve").warning("no daily backup (give --backup-dir DIR)")

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            for hall in county.running():
                hall.hub.close_all()  # end the event streams, or shutdown would wait for them
            super().handle_exit(sig, frame)

    try:
        if workers > 1:  # the database is migrated and seeded (above); each worker builds its own app
            import os

            rt.close()
            os.environ[ENV_DB] = url
            if hall is not None:
                os.environ[ENV_HALL] = str(hall.resolve())
            logging.getLogger("kiosk.serve").info("%d server processes on port %d", workers, port)
            uvicorn.run("server.main:worker_app", factory=True, workers=workers, host=host, port=port,
                        access_log=access_log, log_level="info", timeout_graceful_shutdown=2, backlog=2048)
        else:
            config = uvicorn.Config(app, host=host, port=port, access_log=access_log, log_level="info",
                                    timeout_graceful_shutdown=2, backlog=2048)
            settle_heap()
            Server(config).run()
    finally:
        if daily is not None:
            daily.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m server", description="Hall server")
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        serve(args.db, args.host, args.port, args.hall, args.access_log, args.backup_dir, args.backup_keep,
              args.no_backup, args.workers)
    except ValueError as exc:
        print(f"server: {exc}", file=__import__("sys").stderr)
        return 1
    return 0
