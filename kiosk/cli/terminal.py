"""`kiosk terminal ACTION [--config FILE]`: this terminal's own settings file.

Every action works on one terminal file: ``--config FILE``, else ``$KIOSK_CONFIG``,
else /etc/hall-kiosk/terminal.toml when it exists (a box set up by
deploy/install.sh), else ~/.config/hall-kiosk/terminal.toml.

Actions: set-pin. (enroll, issue, status and sync join here: add a parser in
``register`` with ``_config_option`` and a handler taking ``args``.)
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("terminal", help="this terminal's settings file: set the settings PIN",
                       description="Manage this terminal's settings file / 终端设置")
    actions = p.add_subparsers(dest="action", required=True)  # usage lists the actions

    set_pin = actions.add_parser(
        "set-pin", help="set the PIN that opens the touch-screen settings (reads 4-8 digits from stdin)",
        description="Read a 4-8 digit PIN from stdin (one line) and store its hash in the terminal "
                    "file; the file is created from the shipped defaults when missing. "
                    "Also clears a PIN-pad lockout.")
    _config_option(set_pin)
    set_pin.set_defaults(func=set_pin_action)


def _config_option(p) -> None:
    p.add_argument("--config", metavar="FILE", type=Path, default=None,
                   help="terminal file (default: $KIOSK_CONFIG, /etc/hall-kiosk/terminal.toml if it "
                        "exists, else ~/.config/hall-kiosk/terminal.toml)")


def terminal_file(args) -> Path:
    from kiosk.config_write import default_terminal_file

    return args.config if args.config is not None else default_terminal_file()


def _load(path: Path):
    """The terminal config at ``path``, or a CliError naming the first broken field."""
    from kiosk.cli import CliError
    from kiosk.config import ConfigInvalid, load_terminal

    try:
        return load_terminal(path)
    except ConfigInvalid as exc:
        more = f" (and {len(exc.errors) - 1} more; run `kiosk config check {path}`)" if len(exc.errors) > 1 else ""
        raise CliError(f"{exc.errors[0]}{more}") from None


# ---------------------------------------------------------------------- set-pin

def _read_pin() -> str:
    if sys.stdin.isatty():  # a person at a shell: no echo, and type it twice
        first = getpass.getpass("new settings PIN (4-8 digits) / 新管理密码: ")
        again = getpass.getpass("again / 再输一次: ")
        if first != again:
            from kiosk.cli import CliError

            raise CliError("the two PINs differ; nothing changed / 两次输入不一致")
        return first
    return sys.stdin.readline().strip()


def set_pin_action(args) -> int:
    from kiosk.cli import CliError
    from kiosk.config import ConfigInvalid
    from kiosk.config_write import apply_settings, ensure_terminal_file
    from kiosk.pin import PinGuard, hash_pin, valid_pin_format

    pin = _read_pin()
    if not pin:
        raise CliError("no PIN on stdin: pipe in one line of 4-8 digits, e.g. "
                       "`echo 2468 | kiosk terminal set-pin` / 请输入4-8位数字密码")
    if not valid_pin_format(pin):
        raise CliError("the PIN must be 4 to 8 digits (0-9); nothing changed / 密码须为4-8位数字")
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
