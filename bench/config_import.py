"""What reading the terminal and hall files costs `kiosk run` on its start path, in CPU seconds.

Each run is a fresh process that times, with ``time.process_time`` (CPU, so a loaded machine
skews it far less than wall time): importing pydantic alone (the baseline: what any pydantic
model costs), importing ``kiosk.config`` on top of it (the file models are built here), and
loading the shipped ``config/terminal.toml`` and ``config/hall.toml``. Prints one JSON line of
medians with the load average; wall time of ``import kiosk.config`` is printed beside it.

    .venv/bin/python bench/config_import.py [--runs 9]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = r'''
import time
w0 = time.perf_counter(); c0 = time.process_time()
import pydantic, pydantic.main, pydantic.fields, pydantic.functional_validators
c1 = time.process_time()
import kiosk.config
c2 = time.process_time(); w2 = time.perf_counter()
from kiosk.config import load_terminal
from kiosk.hall_file import load_hall
load_terminal("config/terminal.toml"); load_hall("config/hall.toml")
c3 = time.process_time()
print(c1 - c0, c2 - c1, c3 - c2, w2 - w0)
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "9")))
    runs = parser.parse_args().runs
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    load = [os.getloadavg()[0]]
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True,
                             cwd=ROOT, env=env).stdout.split()
        rows.append([float(x) for x in out])
    load.append(os.getloadavg()[0])

    def med(i: int) -> float:
        return round(statistics.median(r[i] for r in rows) * 1000, 1)

    print(json.dumps({"bench": "config_import", "pydantic_import_cpu_ms": med(0),
                      "kiosk_config_on_top_cpu_ms": med(1), "load_terminal_and_hall_cpu_ms": med(2),
                      "import_kiosk_config_wall_ms": med(3), "runs": runs,
                      "load1_start_end": [round(x, 1) for x in load],
                      "baseline": "importing pydantic alone (pydantic_import_cpu_ms)"}))


if __name__ == "__main__":
    main()
