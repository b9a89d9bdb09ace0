"""`kiosk ...` run inside the test process (no tests here).

The same ``wiring.cli.main`` that ``python -m kiosk`` calls, with its own stdin, stdout, stderr and
environment, minus the Python start-up and imports (about a second per call on the loaded 2-core
test box). The answer is a ``subprocess.CompletedProcess`` like ``subprocess.run``'s, so a test
reads the same ``returncode``, ``stdout`` and ``stderr``.

Use it for what a command says and exits with. A file whose point is the installed program (the
``python -m kiosk`` entry, a signal, a kill, a pty held by another process) keeps real processes;
each file that switched keeps at least one real ``python -m kiosk`` run of its commands.
A command that would serve or block (``kiosk serve``, ``kiosk run``) never runs here: a broken check
would hang the test instead of failing it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import chdir, redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent


class _Stdin(io.StringIO):
    def isatty(self) -> bool:  # piped, as subprocess.run(input=...) gives it
        return False


def run_kiosk(*args: str, stdin: str = "", env: dict | None = None, cwd: Path | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """``kiosk ARGS`` in this process; ``env`` sets (or with None removes) variables for the call.
    A command still running after ``timeout`` s ends this test process with every thread's stack
    (faulthandler), as ``subprocess.run(timeout=...)`` would end the command: a hang fails, it does
    not stall the suite until its one-hour limit."""
    import faulthandler

    from wiring.cli import main

    argv = [str(a) for a in args]
    saved_stdin = sys.stdin
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ), chdir(cwd or ROOT):  # the environment and folder come back as they were
        for key, value in (env or {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(value)
        sys.stdin = _Stdin(stdin)
        faulthandler.dump_traceback_later(timeout, exit=True)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:  # argparse's usage errors (2), --help and --version (0)
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                    if isinstance(exc.code, str):
                        print(exc.code, file=sys.stderr)
        finally:
            faulthandler.cancel_dump_traceback_later()
            sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["kiosk", *argv], code, out.getvalue(), err.getvalue())
