"""`kiosk config check FILE...`: validate terminal and hall files."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("config", help="validate terminal and hall configuration files")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate files (a terminal file with the hall file it names); "
                                             "one line per error (file:line: field: message)")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=check_files)


def check_files(args) -> int:
    from kiosk.config import check_file

    failed = False
    shown: set[str] = set()  # a hall file named by a terminal file and given too: its errors once
    for name in args.files:
        errors = check_file(name)  # a terminal file's errors include those of its hall file
        for error in errors:
            if str(error) not in shown:
                print(error, file=sys.stderr)
                shown.add(str(error))
        if errors:
            failed = True
        else:
            print(f"{name}: OK")
    return 1 if failed else 0
