"""`kiosk admin`: staff accounts, terminal enrollment codes and services on a server database.

Changes go straight into the database; a running server picks them up on its
next request (it watches the hall's version counter).
"""

from __future__ import annotations

import getpass
import re
import sys
from datetime import datetime
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("admin", help="manage the hall server's database / 服务器管理",
                       description="Manage staff, terminal enrollment codes and services on a hall server database.")
    cmds = p.add_subparsers(dest="admin_command", metavar="ACTION", required=True)

    def command(name: str, help: str, func, hall: bool = True):
        c = cmds.add_parser(name, help=help, description=help)
        c.add_argument("--db", metavar="URL", default=None,
                       help="server database (default: server.db in the data folder, as for `kiosk serve`)")
        if hall:
            c.add_argument("--hall", metavar="CODE", default=None,
                           help="the hall (its `[hall] code`); may be left out when the server holds one hall")
        c.add_argument("--hall-file", metavar="FILE", type=Path, default=None,
                       help="hall file to load if the database is still empty (default: the sample hall)")
        c.set_defaults(func=func)
        return c

    c = command("add-hall", "add a hall from a hall file, or update it (the file's `[hall] code` is its key); "
                            "the file is checked first, as by `kiosk config check`", _add_hall, hall=False)
    c.add_argument("file", type=Path, help="a hall file, e.g. config/hall.toml")

    c = command("add-user", "add a staff account (the first admin comes from here)", _add_user)
    c.add_argument("name", help="username (letters, digits, . _ -)")
    c.add_argument("--role", required=True, choices=("window", "supervisor", "admin", "county-admin", "county-viewer"),
                   help="hall staff: window | supervisor | admin (of --hall); county users, who see every hall "
                        "and take no --hall: county-admin (everything) | county-viewer (reads statistics, "
                        "ratings and follow-ups)")
    c.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    c.add_argument("--display-name", default="", help="name shown on pages, e.g. 王芳")
    c.add_argument("--staff-no", default="", help="工号")
    c.add_argument("--window", type=int, default=None, help="the window they usually sit at")

    c = command("enrollment-code", "print a one-time terminal enrollment code, valid 24 hours", _enrollment_code)
    c.add_argument("--name", default=None, metavar="TERMINAL", help="only a terminal of this name may use it")
    c.add_argument("--mode", default=None, choices=("dispenser", "evaluator", "inquiry", "combined"),
                   help="only a terminal of this mode may use it (its token can do only what that mode does)")
    c.add_argument("--window", type=int, default=None, metavar="N", help="an evaluator's window")

    c = command("add-service", "add a service (open at all times and uncapped unless told)", _add_service)
    c.add_argument("--code", required=True, help="lowercase code, e.g. pension")
    c.add_argument("--name", required=True, help="name shown to visitors, e.g. 养老认证")
    c.add_argument("--prefix", required=True, help="ticket letter(s), e.g. L")
    c.add_argument("--range", default="1-999", metavar="A-B", help="number range (default 1-999)")
    c.add_argument("--daily-cap", type=int, default=None, metavar="N", help="tickets per day (default: no cap)")
    c.add_argument("--hours", default="", help='opening hours, e.g. "08:30-12:00 14:00-17:30" (default: always)')
    c.add_argument("--windows", default="", metavar="N,N", help="windows that serve it, e.g. 3,9")
    c.add_argument("--icon", default="general")
    c.add_argument("--average-minutes", type=float, default=None, help="expected minutes per visitor")
    c.add_argument("--description", default="")

    c = cmds.add_parser("backup", help="copy the server database into a folder (SQLite: online backup, the "
                                       "server may keep running; PostgreSQL: pg_dump)",
                        description="Copy the server database into a folder as hall-backup-DATE-TIME.sqlite "
                                    "or .pgdump. The server may keep running.")
    c.add_argument("--db", metavar="URL", default=None, help="server database (default: as for `kiosk serve`)")
    c.add_argument("--out", metavar="DIR", type=Path, required=True, help="folder for the backup file")
    c.add_argument("--keep", metavar="N", type=int, default=None, help="then keep only the newest N backups there")
    c.set_defaults(func=_backup)

    c = cmds.add_parser("restore", help="put a backup back as the server database (stop the server first)",
                        description="Put a backup made by `kiosk admin backup` (or the server's daily backup) "
                                    "back as the server database. Stop the server first.")
    c.add_argument("backup", type=Path, help="a hall-backup-*.sqlite or *.pgdump file")
    c.add_argument("--db", metavar="URL", default=None, help="server database (default: as for `kiosk serve`)")
    c.add_argument("--force", action="store_true", help="replace a database that already holds tickets")
    c.set_defaults(func=_restore)

    c = command("import-guides", "replace the service guides terminals pull with a folder "
                                 "(checked like `kiosk guides check`)", _import_guides)
    c.add_argument("folder", type=Path, help="a folder laid out like config/guides")

    c = cmds.add_parser("county-link-code", help="on the county server: a one-time code for a township's own hall "
                                                 "server to link to this county (valid 7 days)",
                        description="On the county server: print a one-time code a township's own hall server "
                                    "spends with `kiosk admin link-county` to report to this county.")
    c.add_argument("--db", metavar="URL", default=None, help="county server database (default: as for `kiosk serve`)")
    c.add_argument("--hall", metavar="CODE", required=True, help="the county's code for that hall, e.g. qingshi")
    c.add_argument("--name", required=True, help="the hall's name, e.g. 青石镇便民服务中心")
    c.set_defaults(func=_county_link_code)

    c = cmds.add_parser("link-county", help="link this hall server to the county server: from then on it reports "
                                            "its ratings, follow-ups and daily reports upward",
                        description="Spend the one-time code the county made for this hall (`kiosk admin "
                                    "county-link-code` on the county server). The running hall server then "
                                    "pushes its daily reports, ratings and follow-up changes to the county, "
                                    "exactly once, retrying while the county is away.")
    c.add_argument("--db", metavar="URL", default=None, help="this hall server's database (default: as for "
                                                             "`kiosk serve`)")
    c.add_argument("--server", metavar="COUNTY_URL", required=True, help="the county server, http://HOST:PORT")
    c.add_argument("--code", required=True, help="the one-time code the county made for this hall")
    c.set_defaults(func=_link_county)


def _db(args, seed: bool = True):
    from kiosk import paths
    from wiring.cli import CliError
    from kiosk.storage.db import open_engine
    from server import hall_store
    from server.main import default_db_url

    url = args.db or default_db_url()
    if not re.match(r"^(sqlite:///|postgresql(\+psycopg)?://)", url):
        raise CliError(f"--db {url}: use sqlite:///FILE or postgresql://...")
    hall_file = getattr(args, "hall_file", None)
    given = getattr(args, "hall", None)
    if given and ("/" in given or given.endswith(".toml")):  # the old `--hall FILE`: the hall file to load
        hall_file, args.hall = Path(given), None
    try:
        engine = open_engine(url)
        hall_store.prepare(engine)
        if seed:
            hall_store.seed(engine, hall_file or paths.SAMPLE_HALL)
    except CliError:
        raise
    except Exception as exc:
        from kiosk.config import ConfigInvalid

        if isinstance(exc, ConfigInvalid):
            raise CliError(f"--hall-file: {exc.errors[0]}") from None
        raise CliError(f"--db {url.split('@')[-1]}: cannot open the database: {str(exc).splitlines()[0]}") from None
    return engine


def _hall_of(engine, args) -> str:
    """The hall a command works on: ``--hall``, or the only hall of the server."""
    from wiring.cli import CliError
    from server import hall_store

    with engine.connect() as conn:
        codes = hall_store.hall_codes(conn)
    if args.hall:
        if args.hall not in codes:
            raise CliError(f"--hall {args.hall}: unknown hall (this server holds: {', '.join(codes)})")
        return args.hall
    if len(codes) != 1:
        raise CliError(f"--hall: this server holds {len(codes)} halls, name one ({', '.join(codes)})")
    return codes[0]


def _add_hall(args) -> int:
    """Check a hall file like `kiosk config check`, then add or update that hall."""
    from wiring.cli import CliError
    from kiosk.config import ConfigInvalid
    from kiosk.hall_file import load_hall
    from server import hall_store

    if not args.file.is_file():
        raise CliError(f"{args.file}: file not found")
    try:
        hall = load_hall(args.file)
    except ConfigInvalid as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return 1
    engine = _db(args, seed=False)  # on an empty database this file is the first hall, not the sample
    created, version = hall_store.save_hall(engine, hall)
    print(f"{'added' if created else 'updated'} hall {hall.code} {hall.name}: {len(hall.services)} services, "
          f"{len(hall.windows)} windows (version {version})")
    return 0


def _read_password(args) -> str:
    from wiring.cli import CliError

    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise CliError("the two passwords differ")
        return first
    raise CliError("give the password with --password-stdin (it is never taken from the command line)")


def _add_user(args) -> int:
    from wiring.cli import CliError
    from server import accounts

    if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", args.name):
        raise CliError(f"name '{args.name}': use 1-64 letters, digits, '.', '_' or '-'")
    if args.window is not None and not 1 <= args.window <= 999:
        raise CliError(f"--window {args.window}: must be 1-999")
    password = _read_password(args)
    engine = _db(args)
    try:
        hall = accounts.add_user(engine, args.name, args.role, password, args.display_name, args.staff_no,
                                 args.window, hall=args.hall)
    except accounts.AccountError as exc:
        field = {"username": "name", "hall": "--hall"}.get(exc.field, exc.field)
        raise CliError(f"{field}: {exc}") from None
    print(f"added {args.role} '{args.name}'" + (f" in hall {hall}" if hall else " (every hall)"))
    return 0


def _enrollment_code(args) -> int:
    from server import accounts

    from wiring.cli import CliError

    engine = _db(args)
    try:
        code, expires = accounts.enrollment_code(engine, args.name, args.mode, args.window, hall=args.hall)
    except accounts.AccountError as exc:
        raise CliError(f"--{exc.field}: {exc}") from None
    until = datetime.fromtimestamp(expires).strftime("%Y-%m-%d %H:%M")
    print(code)
    print(f"one-time code{' for ' + args.name if args.name else ''}, valid until {until}"
          f"{' (hall ' + args.hall + ')' if args.hall else ''}", file=sys.stderr)
    return 0


FLAGS = {"code": "--code", "name": "--name", "prefix": "--prefix", "range_start": "--range", "range_end": "--range",
         "daily_cap": "--daily-cap", "hours": "--hours", "icon": "--icon", "average_minutes": "--average-minutes",
         "description": "--description", "windows": "--windows"}


def _add_service(args) -> int:
    """Checked by the API's own model (``server.models.ServiceIn``, derived from the hall model)."""
    from pydantic import ValidationError

    from kiosk.configfile import problems_of
    from kiosk.domain import Service
    from kiosk.hall_model import parse_hours
    from server import hall_store
    from server.models import ServiceIn
    from wiring.cli import CliError

    m = re.match(r"^(\d{1,5})-(\d{1,5})$", args.range)
    if not m:
        raise CliError(f"--range '{args.range}': use FIRST-LAST, e.g. 1-500")
    try:
        windows = [int(n) for n in args.windows.split(",") if n.strip()]
    except ValueError:
        raise CliError(f"--windows '{args.windows}': window numbers separated by commas, e.g. 3,9") from None
    fields = {"code": args.code, "name": args.name, "prefix": args.prefix, "range_start": int(m.group(1)),
              "range_end": int(m.group(2)), "daily_cap": args.daily_cap, "hours": args.hours, "icon": args.icon,
              "average_minutes": args.average_minutes, "description": args.description, "windows": windows}
    try:
        body = ServiceIn.model_validate(fields)
    except ValidationError as exc:
        field, message = problems_of(exc, ServiceIn)[0]
        flag = FLAGS.get(field.split("[")[0].split(".")[0], field)
        value = getattr(args, flag.lstrip("-").replace("-", "_"), None)
        raise CliError(f"{flag} {value!r}: {message}" if value not in (None, "") else f"{flag}: {message}") from None
    if body.range_start > body.range_end:
        raise CliError(f"--range '{args.range}': the first number must not be above the last")
    svc = Service(code=body.code, name=body.name, prefix=body.prefix, range_start=body.range_start,
                  range_end=body.range_end, daily_cap=body.daily_cap, hours=parse_hours(body.hours), icon=body.icon,
                  average_minutes=body.average_minutes, description=body.description)
    engine = _db(args)
    code = _hall_of(engine, args)
    try:
        hall_store.add_service(engine, code, svc, windows)
    except hall_store.HallEditError as exc:
        raise CliError(f"--{exc.field}: {exc}") from None
    served = f", served at window {', '.join(map(str, windows))}" if windows else " (no window serves it yet)"
    print(f"added service {svc.code} {svc.name} ({svc.prefix}{svc.range_start:0{svc.number_width}d}-)"
          f"{served}")
    return 0


def _import_guides(args) -> int:
    """A supervisor's folder of guides becomes the content every terminal pulls next."""
    from wiring.cli import CliError
    from kiosk.wire.guidefiles import folder_to_files, validate_files
    from server import hall_store, sync_store

    if not args.folder.is_dir():
        raise CliError(f"{args.folder}: not a folder")
    engine = _db(args)
    code = _hall_of(engine, args)
    with engine.connect() as conn:
        hall, _version = hall_store.load(conn, code)
    content, errors = validate_files(folder_to_files(args.folder), hall)
    if content is None:
        for error in errors:
            print(f"{args.folder}/{error}", file=sys.stderr)
        return 1
    sync_store.save_guide_files(engine, code, content.digest, folder_to_files(args.folder),
                                "kiosk admin import-guides")
    print(f"imported {len(content.guides)} guides and {len(content.policies)} policy documents "
          f"({content.digest[:12]}); terminals take them at their next content pull")
    return 0


def _backup(args) -> int:
    from wiring.cli import CliError
    from server import backup
    from server.main import default_db_url

    if args.keep is not None and not 1 <= args.keep <= 3650:
        raise CliError(f"--keep {args.keep}: must be 1-3650")
    try:
        path = backup.backup(args.db or default_db_url(), args.out)
    except backup.BackupError as exc:
        raise CliError(str(exc)) from None
    print(f"backup {path} ({path.stat().st_size // 1024 + 1} KB)")
    if args.keep is not None:
        for old in backup.rotate(args.out, args.keep):
            print(f"removed {old}")
    return 0


def _restore(args) -> int:
    from wiring.cli import CliError
    from server import backup
    from server.main import default_db_url

    url = args.db or default_db_url()
    try:
        backup.restore(url, args.backup, force=args.force)
    except backup.BackupError as exc:
        raise CliError(str(exc)) from None
    print(f"restored {args.backup} into {url.split('@')[-1]}")
    return 0


def _county_link_code(args) -> int:
    import argparse

    from server import county_inbox

    from wiring.cli import CliError

    engine = _db(argparse.Namespace(db=args.db, hall=None))
    try:
        county_inbox.prepare(engine)
        code, expires = county_inbox.make_code(engine, args.hall, args.name)
    except county_inbox.LinkError as exc:
        raise CliError(f"--{exc.field}: {exc}") from None
    print(code)
    until = datetime.fromtimestamp(expires).strftime("%Y-%m-%d %H:%M")
    print(f"one-time county link code for hall '{args.hall}' ({args.name}), valid until {until}", file=sys.stderr)
    return 0


def _link_county(args) -> int:
    import argparse

    from server import county_link, hall_store

    from wiring.cli import CliError

    engine = _db(argparse.Namespace(db=args.db, hall=None))
    with engine.connect() as conn:
        own = hall_store.hall_code(conn) or ""
    try:
        found = county_link.link(engine, args.server, args.code, own)
    except county_link.LinkFailed as exc:
        raise CliError(str(exc)) from None
    print(f"linked to {found.url} as hall '{found.hall}' ({found.hall_name}); the hall server reports upward "
          "from now on")
    return 0
