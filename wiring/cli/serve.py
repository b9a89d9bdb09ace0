"""`kiosk serve`: run the hall server (API, call console, hall display, admin pages)."""

from __future__ import annotations


def register(sub) -> None:
    from server.main import add_arguments

    p = sub.add_parser("serve", help="run the hall server / 运行大厅服务器",
                       description="Run the hall server. On an empty database it loads the hall file.")
    add_arguments(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    from wiring.cli import CliError
    from server.main import serve

    try:
        serve(args.db, args.host, args.port, args.hall, args.access_log, args.backup_dir, args.backup_keep,
              args.no_backup, args.workers)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:  # e.g. the port is taken
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0
