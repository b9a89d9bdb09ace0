"""Running the server: ``kiosk serve`` and ``python -m server`` both land here."""

from __future__ import annotations

import argparse
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
    p.add_argument("--access-log", action="store_true", help="log every request")



def serve(db: str | None, host: str, port: int, hall: Path | None, access_log: bool = False) -> None:
    """Start the server and block; raises ValueError with a one-line reason on bad settings."""
    import uvicorn

    from kiosk.config import ConfigInvalid

    from .app import create_app

    if not 0 < port < 65536:
        raise ValueError(f"--port {port}: must be 1-65535")
    url = db or default_db_url()
    if not (url.startswith("sqlite:///") or url.startswith("postgresql://") or url.startswith("postgresql+psycopg://")):
        raise ValueError(f"--db {url}: use sqlite:///FILE or postgresql://...")
    if hall is not None and not hall.is_file():
        raise ValueError(f"--hall {hall}: file not found")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(url, hall)
    except ConfigInvalid as exc:
        raise ValueError(f"hall file: {exc.errors[0]}") from None
    except Exception as exc:  # an unreachable database, a bad path: one line, not a traceback
        if type(exc).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
            raise ValueError(f"--db: cannot open the database: {str(exc).splitlines()[0]}") from None
        raise
    rt = app.state.runtime
    logging.getLogger("kiosk.serve").info("hall '%s' (%s) on %s%s; pages at http://%s:%d/login",
                                          rt.engine.hall.name, rt.code, url.split("@")[-1],
                                          " (loaded from the hall file)" if rt.seeded else "",
                                          "127.0.0.1" if host in ("0.0.0.0", "::") else host, port)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            rt.hub.close_all()  # end the event streams, or shutdown would wait for them
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, host=host, port=port, access_log=access_log, log_level="info",
                            timeout_graceful_shutdown=2, backlog=2048)
    Server(config).run()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m server", description="Hall server")
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        serve(args.db, args.host, args.port, args.hall, args.access_log)
    except ValueError as exc:
        print(f"server: {exc}", file=__import__("sys").stderr)
        return 1
    return 0
