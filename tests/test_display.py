"""`kiosk run` with no screen to draw on says so and exits, instead of running invisibly."""

from __future__ import annotations

import os
import re
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


def test_kiosk_run_with_a_bad_hall_file_names_file_line_and_field(tmp_path):
    hall = tmp_path / "hall.toml"
    hall.write_text((ROOT / "config" / "hall.toml").read_text(encoding="utf-8").replace(
        'code = "qingshi"', "code = 12", 1), encoding="utf-8")
    terminal = tmp_path / "terminal.toml"
    terminal.write_text(re.sub(r'^hall_file = .*$', f'hall_file = "{hall}"', (ROOT / "config" / "terminal.toml")
                               .read_text(encoding="utf-8"), count=1, flags=re.M), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), KIOSK_DATA_DIR=str(tmp_path / "data"),
               KIVY_HOME=str(tmp_path / "kivy"), SDL_VIDEODRIVER="offscreen")
    r = subprocess.run([sys.executable, "-m", "kiosk", "run", "--config", str(terminal), "--windowed"], env=env,
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 1
    assert f"{hall}:" in r.stderr and "hall.code: must be a string" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
