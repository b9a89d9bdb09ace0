"""`kiosk run` with no screen to draw on says so and exits, instead of running invisibly."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import ROOT


def test_kiosk_run_without_a_display_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    env.update(PYTHONPATH=str(ROOT), KIOSK_DATA_DIR=str(tmp_path / "data"), KIVY_HOME=str(tmp_path / "kivy"))
    r = subprocess.run([sys.executable, "-m", "kiosk", "run"], env=env, capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 1
    assert "no usable display" in r.stderr and "没有可用的显示器" in r.stderr
    assert "Traceback" not in r.stderr
