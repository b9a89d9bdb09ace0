"""`kiosk terminal ACTION [--config FILE]`: this terminal's own settings file.

Every action works on one terminal file: ``--config FILE``, else ``$KIOSK_CONFIG``,
else /etc/hall-kiosk/terminal.toml when it exists (a box set up by
deploy/install.sh), else ~/.config/hall-kiosk/terminal.toml.

Actions: set-pin; enroll (hall server address, token and offline series into the
file), issue (a ticket exactly as the touch screen takes it), status (online or
offline, outbox, last sync, printer) and sync (push the outbox now).
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("terminal", help="this terminal: settings PIN, enrollment, issue, status, sync",
                       description="Manage this terminal's settings file / 终端设置")
    actions = p.add_subparsers(dest="action", required=True)  # usage lists the actions

    set_pin = actions.add_parser(
        "set-pin", help="set the PIN that opens the touch-screen settings (reads 6 digits from stdin: no runs or repeats)",
        description="Read a 6-digit PIN (no runs or repeats) from stdin (one line) and store its hash in the terminal "
                    "file; the file is created from the shipped defaults when missing. "
                    "Also clears a PIN-pad lockout.")
    _config_option(set_pin)
    set_pin.set_defaults(func=set_pin_action)

    enroll = actions.add_parser(
        "enroll", help="enroll with a hall server using a one-time code (stores server, token, series)",
        description="Trade a one-time enrollment code (admin page, 终端 tab) for this terminal's token and "
                    "offline series letter; writes server.url, server.token and server.series into the "
                    "terminal file atomically (readable by its owner only).")
    enroll.add_argument("--server", required=True, metavar="URL", help="hall server, e.g. http://192.168.1.10:8080")
    enroll.add_argument("--code", required=True, metavar="CODE", help="one-time enrollment code, e.g. ABCD-EFGH-JKMN")
    _config_option(enroll)
    enroll.set_defaults(func=enroll_action)

    issue = actions.add_parser(
        "issue", help="issue a ticket for SERVICE as the touch screen would and print its number",
        description="Issue one ticket through the same queue (hall server, or the offline series when it "
                    "does not answer), printer and outbox as the touch screen, and print its number.")
    issue.add_argument("service", metavar="SERVICE", help="service code, e.g. labor")
    issue.add_argument("--priority", metavar="GROUP", default=None, help="green-channel group, e.g. elderly")
    _config_option(issue)
    issue.set_defaults(func=issue_action)

    status = actions.add_parser("status", help="online or offline, outbox size, last sync, printer state",
                                description="Show how this terminal stands with its hall server.")
    status.add_argument("--json", action="store_true", help="one JSON object instead of text")
    _config_option(status)
    status.set_defaults(func=status_action)

    sync = actions.add_parser("sync", help="push the outbox to the hall server now (exit 0 when it is empty)",
                              description="Deliver every pending outbox event now, in batches. Exit 0 when "
                                          "the outbox is empty afterwards, 1 when events remain.")
    sync.add_argument("--batch", type=int, default=500, metavar="N", help="events per request (default 500)")
    _config_option(sync)
    sync.set_defaults(func=sync_action)


def _config_option(p) -> None:
    p.add_argument("--config", metavar="FILE", type=Path, default=None,
                   help="terminal file (default: $KIOSK_CONFIG, /etc/hall-kiosk/terminal.toml if it "
                        "exists, else ~/.config/hall-kiosk/terminal.toml)")


def terminal_file(args) -> Path:
    from kiosk.config_write import default_terminal_file

    return args.config if args.config is not None else default_terminal_file()


def _load(path: Path):
    """The terminal config at ``path``, or a CliError naming the first broken field."""
    from wiring.cli import CliError
    from kiosk.config import ConfigInvalid, load_terminal

    try:
        return load_terminal(path)
    except ConfigInvalid as exc:
        more = f" (and {len(exc.errors) - 1} more; run `kiosk config check {path}`)" if len(exc.errors) > 1 else ""
        raise CliError(f"{exc.errors[0]}{more}") from None


# ---------------------------------------------------------------------- set-pin

def _read_pin() -> str:
    if sys.stdin.isatty():  # a person at a shell: no echo, and type it twice
        first = getpass.getpass("new settings PIN (6 digits) / 新管理密码: ")
        again = getpass.getpass("again / 再输一次: ")
        if first != again:
            from wiring.cli import CliError

            raise CliError("the two PINs differ; nothing changed / 两次输入不一致")
        return first
    return sys.stdin.readline().strip()


def set_pin_action(args) -> int:
    from wiring.cli import CliError
    from kiosk.config import ConfigInvalid
    from kiosk.config_write import apply_settings, ensure_terminal_file
    from kiosk.pin import PinGuard, hash_pin, pin_problem

    pin = _read_pin()
    if not pin:
        raise CliError("no PIN on stdin: pipe in one line of 6 digits, e.g. "
                       "`echo 480317 | kiosk terminal set-pin` / 请输入6位数字密码")
    problem = pin_problem(pin)
    if problem:
        raise CliError(f"{problem}; nothing changed")
    path = terminal_file(args)
    created = not path.exists()
    try:
        ensure_terminal_file(path)
        config = _load(path)
        apply_settings(path, {"security.pin_hash": hash_pin(pin)}, log_dir=config.data_dir / "logs")
    except ConfigInvalid as exc:
        raise CliError(str(exc.errors[0])) from None
    except OSError as exc:
        raise CliError(f"cannot write {exc.filename or path}: {exc.strerror or exc}") from None
    try:
        PinGuard(config.data_dir, "").reset()  # staff with a shell may end a lockout
    except OSError:
        pass
    if created:
        print(f"created {path} from the shipped defaults / 已创建终端配置文件")
    print(f"settings PIN set in {path} / 管理密码已设置")
    return 0


# ---------------------------------------------------------------------- enroll

def enroll_action(args) -> int:
    from wiring.cli import CliError
    from kiosk.config_write import ensure_terminal_file
    from kiosk.sync import EnrollError, enroll

    path = terminal_file(args)
    try:
        ensure_terminal_file(path)
    except OSError as exc:
        raise CliError(f"cannot create {exc.filename or path}: {exc.strerror or exc}") from None
    config = _load(path)
    try:
        done = enroll(args.server, args.code, config, path=path)
    except EnrollError as exc:
        raise CliError(str(exc)) from None
    series = f", offline series {done.series}" if done.series else \
        " (no offline series: this mode does not issue tickets, or the hall has no free letter)"
    print(f"enrolled '{config.name}' with {done.server_url} as {done.terminal_id}{series}; "
          f"saved in {done.path} / 注册成功")
    return 0


def _terminal(args, background: bool = False):
    """The terminal facade exactly as the app builds it (no background threads for one command)."""
    from wiring.cli import CliError
    from kiosk.config import ConfigInvalid
    from wiring.terminal import open_terminal

    from kiosk.storage.file_check import UnusableStore, check_terminal_stores

    config = _load(terminal_file(args))
    try:
        check_terminal_stores(config.data_dir)
        return open_terminal(config, voice=_Silent(), background=background)
    except UnusableStore as exc:
        raise CliError(str(exc)) from None
    except ConfigInvalid as exc:
        raise CliError(str(exc.errors[0])) from None
    except OSError as exc:
        raise CliError(f"cannot open {exc.filename or 'a file'}: {exc.strerror or exc}") from None


class _Silent:
    """A command line does not speak the number."""

    def say(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


# ----------------------------------------------------------------------- issue

def issue_action(args) -> int:
    from wiring.cli import CliError
    from kiosk.terminal import VisitorError

    term = _terminal(args)
    try:
        if term.hall.service(args.service) is None:
            codes = ", ".join(s.code for s in term.hall.services)
            raise CliError(f"unknown service '{args.service}' (services: {codes})")
        if not term.dispenses:
            print(f"note: this terminal's mode is {term.config.mode}; issuing anyway", file=sys.stderr)
        try:
            outcome = term.issue(args.service, priority=args.priority, wait_for_print=True)
        except VisitorError as exc:
            raise CliError(f"not issued: {exc}") from None
        marker = term.status_marker()
        print(outcome.number)
        print(f"{outcome.service_name} · ahead {outcome.people_ahead} · windows "
              f"{','.join(map(str, outcome.windows)) or '-'} · print {outcome.print_state}"
              + (f" · {marker} (in the outbox)" if marker else ""), file=sys.stderr)
        if outcome.print_state == "failed":
            print(f"print failed: {outcome.print_error} (the ticket is in the queue)", file=sys.stderr)
        if outcome.phone_url:
            print(f"phone page {outcome.phone_url}", file=sys.stderr)
        return 0
    finally:
        term.close()


# ---------------------------------------------------------------------- status

def _when(ts) -> str:
    if not ts:
        return "never"
    import time as _t

    return _t.strftime("%Y-%m-%d %H:%M:%S", _t.localtime(ts))


def status_action(args) -> int:
    import json

    term = _terminal(args)
    try:
        backend = term.backend
        printer = term.printer_status()
        info = {"terminal": term.config.name, "mode": term.config.mode, "hall": term.hall.name,
                "printer": printer.value, "printer_text": f"{printer.label_zh} / {printer.label_en}"}
        if not term.config.server_url:
            info.update(server=None, queue="embedded", online=None)
        else:
            counts = backend.outbox.counts()
            info.update(server=term.config.server_url, queue="hall server", online=backend.online is True,
                        series=backend.series, outbox=counts.get("pending", 0),
                        rejected=counts.get("rejected", 0), last_sync=backend.state.get("last_sync"),
                        last_error="" if backend.online else backend.last_error,
                        content=backend.content.versions(), problems=backend.content.problems)
        if args.json:
            print(json.dumps(info, ensure_ascii=False))
            return 0
        print(f"terminal   {info['terminal']} ({info['mode']}), hall {info['hall']}")
        if info["server"] is None:
            print("queue      embedded (no hall server configured) / 单机")
        else:
            state = "online / 在线" if info["online"] else f"OFFLINE / 离线 ({info['last_error']})"
            print(f"server     {info['server']}: {state}")
            print(f"series     {info['series'] or '(none)'}")
            print(f"outbox     {info['outbox']} pending, {info['rejected']} rejected")
            print(f"last sync  {_when(info['last_sync'])}")
            for problem in info["problems"]:
                print(f"content    {problem}")
        print(f"printer    {info['printer_text']}")
        return 0
    finally:
        term.close()


# ------------------------------------------------------------------------ sync

def sync_action(args) -> int:
    from wiring.cli import CliError
    from kiosk.sync import ServerError

    config = _load(terminal_file(args))
    if not config.server_url:
        raise CliError("no hall server configured (server.url is empty): nothing to sync; "
                       "use `kiosk terminal enroll` first")
    if not 1 <= args.batch <= 1000:
        raise CliError("--batch: must be 1-1000")
    term = _terminal(args)
    try:
        backend = term.backend
        backend.reconcile()
        before = backend.outbox.size()
        try:
            result = backend.push(batch_size=args.batch)
        except ServerError as exc:
            left = backend.outbox.size()
            raise CliError(f"{left} event(s) still in the outbox ({before - left} delivered): {exc}") from None
        left = backend.outbox.size()
        print(f"delivered {result.sent} new, {result.duplicates} already there, {result.rejected} rejected; "
              f"{left} left in the outbox")
        for key, kind, error in backend.outbox.rejected(5) if result.rejected else ():
            print(f"rejected {kind} {key}: {error}", file=sys.stderr)
        return 0 if left == 0 else 1
    finally:
        term.close()
