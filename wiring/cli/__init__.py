"""The ``kiosk`` command: one subcommand module per group, each with ``register``."""

from __future__ import annotations

import argparse
import sys

from kiosk import __version__

from . import admin, config, guides, idcard, printer, run, serve, terminal, ticket

GROUPS = (run, serve, ticket, printer, idcard, config, guides, terminal, admin)


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code 1 (or ``code``)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def group_name(group) -> str:
    """The command a group module registers: its own name (``wiring.cli.run`` registers ``run``)."""
    return group.__name__.rsplit(".", 1)[-1]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``kiosk`` command line; with ``command`` (a group's name) only that group's subcommand:
    the others' registration imports the server's and the content tools' modules, which a terminal's
    start (``kiosk run``) does not need (issue 17, ``bench/cold_start.py``)."""
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Service-hall terminals and hall server / 便民服务中心自助终端"
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        if command is None or group_name(group) == command:
            group.register(sub)
    return parser


def not_built(name: str):
    """Handler for a command that exists in the interface but is not built yet."""

    def handler(args) -> int:
        print(f"kiosk {name}: not built yet / 尚未实现", file=sys.stderr)
        return 2

    return handler


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)  # the first word names the group
    parser = build_parser(command if command in {group_name(g) for g in GROUPS} else None)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kiosk guides list | head` closed the pipe: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
