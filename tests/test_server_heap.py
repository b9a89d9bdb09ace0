"""The hall server puts what start-up made out of the collector's reach before its first request
(``server/main.py::settle_heap``): the oldest generation's collections then walk only what came later,
instead of pausing the event loop ~50 ms each (bench/server_issue.py's p99 and max). Checked in a real
``python -m server`` process, one per way of serving, with uvicorn's serving loop replaced by a probe that
reports the collector's frozen objects and exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = textwrap.dedent("""
    import gc, json, sys
    import uvicorn

    def report(*_args, **_kwargs):
        print(json.dumps({"frozen": gc.get_freeze_count()}), flush=True)
        sys.exit(0)

    uvicorn.Server.run = report   # one process: the serving loop, reached once the app is built
    uvicorn.run = report          # the --workers parent: it builds no app itself
    {body}
""")


def _probe(body: str, tmp_path: Path, env: dict[str, str] | None = None) -> dict:
    run_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    done = subprocess.run([sys.executable, "-c", PROBE.replace("{body}", body)], cwd=tmp_path, env=run_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_server_process_freezes_its_start_up_before_serving(tmp_path):
    from tests.test_server_support import free_port

    db = f"sqlite:///{tmp_path / 'hall.db'}"
    answer = _probe(f"from server.main import main; main(['--db', {db!r}, '--port', '{free_port()}', "
                    f"'--no-backup'])", tmp_path)
    # the app, its halls and every module imported: tens of thousands of objects, not a handful
    assert answer["frozen"] > 10_000, answer


def test_each_worker_process_freezes_its_app(tmp_path):
    from server.main import ENV_DB

    db = f"sqlite:///{tmp_path / 'hall.db'}"
    answer = _probe("from server.main import worker_app\nworker_app()\nreport()", tmp_path, {ENV_DB: db})
    assert answer["frozen"] > 10_000, answer
