"""Cold start of `kiosk run` until the attract screen's first frame, beside a bare Kivy app.

Target (issue 2): at most 3 s and at most 2x the bare app. Prints one JSON line.
Both run offscreen with a fresh KIVY_HOME and data folder; each figure is the
median of RUNS process starts, timed from spawn to the first frame flip.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "5"))

BARE = """
import os, time
os.environ["KIVY_NO_ARGS"] = "1"
from kivy.app import App
from kivy.core.window import Window
from kivy.uix.label import Label
class Bare(App):
    def build(self):
        Window.bind(on_flip=self.first)
        return Label(text="hello", font_size=48)
    def first(self, *a):
        print(f"first-frame {time.time():.6f}", flush=True)
        self.stop()
Bare().run()
"""


def spawn(cmd: list[str]) -> float:
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": tempfile.mkdtemp(),
           "KIOSK_DATA_DIR": tempfile.mkdtemp(), "KIOSK_EXIT_AFTER_FIRST_FRAME": "1",
           "KIVY_NO_CONSOLELOG": "1"}
    start = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    line = next((x for x in out.stdout.splitlines() if x.startswith("first-frame")), None)
    if line is None:
        raise SystemExit(f"no first frame from {cmd}: {out.stderr[-2000:]}")
    return float(line.split()[1]) - start


def main() -> None:
    kiosk = [sys.executable, "-m", "kiosk.cli", "run", "--windowed", "--size", "1920x1080"]
    bare_file = Path(tempfile.mkdtemp()) / "bare_app.py"  # Kivy's App wants a source file
    bare_file.write_text(BARE)
    bare = [sys.executable, str(bare_file)]
    spawn(kiosk)  # warm the OS file cache once, as a second boot would be
    kiosk_s = statistics.median(spawn(kiosk) for _ in range(RUNS))
    bare_s = statistics.median(spawn(bare) for _ in range(RUNS))
    print(json.dumps({"bench": "cold_start", "kiosk_run_s": round(kiosk_s, 3), "bare_kivy_s": round(bare_s, 3),
                      "ratio": round(kiosk_s / bare_s, 2), "target_s": 3.0, "target_ratio": 2.0,
                      "runs": RUNS}))


if __name__ == "__main__":
    main()
