"""Where shipped files live, for a source checkout and an installed package alike."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
ASSETS_DIR = ROOT / "assets"
FONT_PATH = ASSETS_DIR / "fonts" / "wqy-microhei.ttc"
SAMPLE_HALL = CONFIG_DIR / "hall.toml"
SAMPLE_TERMINAL = CONFIG_DIR / "terminal.toml"
SAMPLE_GUIDES = CONFIG_DIR / "guides"


def default_data_dir() -> Path:
    """The terminal's data folder when its config names none."""
    env = os.environ.get("KIOSK_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hall-kiosk"
