"""`kiosk COMMAND` builds only that command's parser (the other groups import server and content modules a
terminal's start does not need, issue 17); `kiosk --help` and a misspelt command still see every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def kiosk(*args: str, code: str = "") -> subprocess.CompletedProcess:
    program = f"import sys; from wiring.cli import main; rc = main({list(args)!r}){code}; sys.exit(rc)"
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_run_parses_without_the_other_groups():
    out = kiosk("run", "--help", code="")
    assert out.returncode == 0 and "--windowed" in out.stdout and "serve" not in out.stdout
    # the whole parse of `kiosk run ...` loads nothing of the server
    out = subprocess.run([sys.executable, "-c", "import sys; from wiring.cli import build_parser; "
                          "build_parser('run').parse_args(['run', '--windowed']); "
                          "print(sorted(m for m in sys.modules if m.split('.')[0] == 'server'))"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


def test_help_and_a_misspelt_command_see_every_command():
    from wiring.cli import GROUPS, group_name

    out = kiosk("--help")
    assert out.returncode == 0
    assert all(group_name(g) in out.stdout for g in GROUPS)
    out = kiosk("rnu")
    assert out.returncode == 2 and "invalid choice" in out.stderr and "serve" in out.stderr
