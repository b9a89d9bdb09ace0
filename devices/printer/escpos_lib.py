"""Loading python-escpos cheaply.

Importing it parses its printer-capabilities file (YAML, ~0.4 s here) and caches
the result in a pickle under ESCPOS_CAPABILITIES_PICKLE_DIR, which defaults to a
fresh temporary folder: every start paid the parse again. Pointing it at a
persistent cache folder makes every start after the first cheap, and importing
on first use keeps it off the terminal's start-up entirely.
"""

from __future__ import annotations

import os
from pathlib import Path


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hall-kiosk" / "escpos"


def load():
    """The python-escpos modules this project uses: (printer, constants)."""
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
        folder = _cache_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(folder)
        except OSError:
            pass  # a read-only home: python-escpos falls back to a temporary folder
    from escpos import constants, printer

    return printer, constants
