"""A record of unexpected exceptions, to tell a one-off error from a crash loop.

Rule: 3 or more crashes within 10 minutes is a crash loop. One bad tap a day is a
bug to fix later; three in ten minutes means the terminal cannot serve visitors
and staff must come (the loop flag goes into the health heartbeat). The loop ends
by itself once fewer than 3 crashes remain inside the last 10 minutes.

Crashes are kept as JSON lines in ``<data_dir>/crashes.jsonl`` (the newest 50, each
traceback cut to its last 8000 characters), appended with fsync so the record
survives the restart that usually follows a crash.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .atomic import write_atomic

LOOP_CRASHES = 3
LOOP_WINDOW_S = 10 * 60
KEEP = 50
MAX_TRACEBACK_CHARS = 8000
FILE_NAME = "crashes.jsonl"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Crash:
    at: float  # epoch seconds
    traceback: str

    @property
    def summary(self) -> str:
        """The last line of the traceback, e.g. "KeyError: 'A'"."""
        lines = [line for line in self.traceback.strip().splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""


class CrashLog:
    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time):
        self.path = Path(data_dir) / FILE_NAME
        self.clock = clock

    def record(self, traceback_text: str) -> bool:
        """Store one crash; True when this crash makes (or continues) a crash loop."""
        entry = {"at": self.clock(), "traceback": traceback_text[-MAX_TRACEBACK_CHARS:]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
            with open(self.path, "a+b") as f:
                if f.seek(0, os.SEEK_END) > 0:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":  # a line torn by a power cut: don't glue onto it
                        line = b"\n" + line
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            self._trim()
        except OSError as exc:  # a full disk must not turn one crash into another
            log.error("cannot record the crash in %s: %s", self.path, exc)
        return self.in_loop()

    def all(self) -> list[Crash]:
        """Every kept crash, oldest first (a line torn by a power cut is skipped)."""
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.error("cannot read %s: %s", self.path, exc)
            return []
        crashes = []
        for line in lines:
            try:
                data = json.loads(line)
                crashes.append(Crash(float(data["at"]), str(data["traceback"])))
            except (ValueError, KeyError, TypeError):
                continue
        return crashes

    def recent(self, window_s: float = LOOP_WINDOW_S) -> list[Crash]:
        """Crashes within the last ``window_s`` seconds, newest first."""
        now = self.clock()
        return [c for c in reversed(self.all()) if now - window_s < c.at <= now]

    def in_loop(self) -> bool:
        return len(self.recent()) >= LOOP_CRASHES

    def health(self) -> dict:
        """For the heartbeat: {"crash_loop", "crashes_10min", "last_crash_at", "last_error"}."""
        crashes = self.all()
        last = crashes[-1] if crashes else None
        return {"crash_loop": self.in_loop(), "crashes_10min": len(self.recent()),
                "last_crash_at": last.at if last else None, "last_error": last.summary if last else ""}

    def _trim(self) -> None:
        """Keep the newest KEEP entries; rewrite only when twice that many have piled up."""
        crashes = self.all()
        if len(crashes) < 2 * KEEP:
            return
        text = "".join(json.dumps({"at": c.at, "traceback": c.traceback}, ensure_ascii=False) + "\n"
                       for c in crashes[-KEEP:])
        write_atomic(self.path, text.encode("utf-8"), new_mode=0o644)
