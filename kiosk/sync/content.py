"""What a terminal pulls from its hall server: its own settings, the hall, the guides.

Each pull sends the version it holds (``If-None-Match``); a ``304`` changes
nothing. A new answer is validated as a whole before anything is swapped:
the hall through ``kiosk.hall_file.hall_from_dict`` (the hall file's own checks),
overrides through the terminal file's field checks, guides through
``kiosk.guides.read_content`` on a fresh folder. Only then is it written to
``<data_dir>/sync/`` (atomically) and returned to the caller, which takes it
into use (``RemoteBackend.pull_terminal``, ``pull_hall``, ``pull_guides``).
Junk, truncated answers, 5xx and invalid content keep the last good copy,
return None, and the log says why. This module knows the server only through
the ``ServerClient`` it is given; it changes nothing outside its folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kiosk.atomic import write_atomic
from kiosk.configfile import ConfigInvalid
from kiosk.hall_file import hall_from_dict
from kiosk.domain import Hall

from ..wire.guidefiles import BadFiles, check_paths, write_files
from ..wire.overrides import check_overrides
from .client import BadAnswer, Refused, ServerClient, ServerError, Unreachable, parse_json

log = logging.getLogger(__name__)

SERIES_RE = re.compile(r"^[A-HJ-NP-Z]?$")


def save_copy(folder: Path, name: str, data: dict) -> None:
    """The last good copy of ``name`` in ``folder``, replaced atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / name, json.dumps(data, ensure_ascii=False).encode("utf-8"), new_mode=0o644)


@dataclass(frozen=True)
class TerminalPull:
    """What ``/api/v1/sync/terminal`` says about this terminal, checked."""

    series: str  # the offline series letter ("" while the server has none for it)
    settings: dict  # checked setting overrides, {"timeouts.idle_s": 45, ...}
    link_key: str  # the hall's link key (64 hex digits) or ""


@dataclass(frozen=True)
class HallPull:
    hall: Hall
    etag: str


class ContentSync:
    def __init__(self, client: ServerClient, folder: Path):
        self.client = client
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.problems: list[str] = []  # the latest rejection per kind, for `kiosk terminal status`

    # ------------------------------------------------------------ disk copies
    def _read(self, name: str) -> dict | None:
        path = self.folder / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.error("cannot read the saved copy %s (%s); ignoring it", path, exc)
            return None

    def _write(self, name: str, data: dict) -> None:
        save_copy(self.folder, name, data)

    def cached_hall(self) -> tuple[Hall, str] | None:
        saved = self._read("hall.json")
        if not saved:
            return None
        try:
            return hall_from_dict(saved["hall"], str(self.folder / "hall.json")), saved.get("etag", "")
        except (ConfigInvalid, KeyError, TypeError) as exc:
            log.error("the saved hall copy is unusable (%s); using the hall file", exc)
            return None

    def cached_terminal(self) -> dict:
        return self._read("terminal.json") or {}

    def guides_folder(self) -> Path | None:
        current, old = self.folder / "guides", self.folder / "guides.old"
        if current.is_dir():
            return current
        if old.is_dir():  # a swap was cut between its two renames
            return old
        return None

    def versions(self) -> dict:
        return {"hall": (self._read("hall.json") or {}).get("etag", ""),
                "terminal": self.cached_terminal().get("etag", ""),
                "guides": (self._read("guides.json") or {}).get("etag", "")}

    def _reject(self, what: str, why: str) -> None:
        message = f"{what} from the hall server rejected, keeping the last good copy: {why}"
        log.warning(message)
        self.problems = [p for p in self.problems if not p.startswith(what)] + [message]

    def _accepted(self, what: str) -> None:
        self.problems = [p for p in self.problems if not p.startswith(what)]

    def _get(self, path: str, etag: str, params: dict | None = None):
        """(body, etag) for a new version, or None for 304. Raises ServerError."""
        c = self.client
        r = c.request("GET", path, headers={"If-None-Match": f'"{etag}"'} if etag else None, params=params,
                      timeout=(min(2.0, c.timeout_s), max(5.0, c.timeout_s)))
        if r.status_code == 304:
            return None
        body = parse_json(r)
        if not isinstance(body, dict):
            raise BadAnswer(f"GET {path}: expected a JSON object, got {type(body).__name__}")
        return body, (r.headers.get("ETag") or "").strip('"')

    # ------------------------------------------------------------------ pulls
    # Each returns what is new (checked and saved), or None: not changed (304) or rejected.
    # Unreachable (no usable answer at all) is raised: the caller goes offline.
    def _guarded(self, what: str, fn):
        try:
            return fn()
        except Unreachable as exc:  # 5xx, cut off, no answer: nothing to judge; the caller goes offline
            log.warning("%s: no usable answer (%s); keeping the last good copy", what, exc)
            raise
        except (BadAnswer, Refused) as exc:
            self._reject(what, str(exc))
        except (KeyError, TypeError, ValueError) as exc:
            self._reject(what, f"unexpected answer ({type(exc).__name__}: {exc})")
        return None

    def pull_terminal(self, mode: str) -> TerminalPull | None:
        """This terminal's series letter, setting overrides and the hall's link key (``mode``: its mode)."""
        return self._guarded("terminal settings", lambda: self._pull_terminal(mode))

    def _pull_terminal(self, mode: str) -> TerminalPull | None:
        cached = self.cached_terminal()
        got = self._get("/api/v1/sync/terminal", cached.get("etag", ""), params={"mode": mode})
        if got is None:
            return None
        body, etag = got
        series = body["series"]
        if not isinstance(series, str) or not SERIES_RE.match(series):
            raise ValueError(f"series {series!r} is not one capital letter")
        settings, problems = check_overrides(body["settings"])
        if problems:
            self._reject("terminal settings", "; ".join(f"{f}: {m}" for f, m in problems[:5]))
            return None
        link_key = body.get("link_key") or ""
        if not isinstance(link_key, str) or not re.match(r"^([0-9a-f]{64})?$", link_key):
            raise ValueError("link_key is not 64 hex digits")
        self._write("terminal.json", {"etag": etag, "terminal_id": str(body["terminal_id"]), "series": series,
                                      "settings": settings, "link_key": link_key})
        self._accepted("terminal settings")
        return TerminalPull(series, settings, link_key)

    def pull_hall(self, etag: str) -> HallPull | None:
        """The hall, if the server's differs from version ``etag`` (the one in use)."""
        return self._guarded("hall", lambda: self._pull_hall(etag))

    def _pull_hall(self, etag: str) -> HallPull | None:
        got = self._get("/api/v1/sync/hall", etag)
        if got is None:
            return None
        body, etag = got
        try:
            hall = hall_from_dict(body["hall"], "<hall from server>")
        except ConfigInvalid as exc:
            self._reject("hall", "; ".join(str(e) for e in exc.errors[:5]))
            return None
        self._write("hall.json", {"etag": etag, "hall": body["hall"]})
        self._accepted("hall")
        return HallPull(hall, etag)

    def pull_guides(self, hall: Hall):
        """New guide content (a ``kiosk.guides`` GuideContent, validated against ``hall``), swapped in on disk."""
        return self._guarded("guides", lambda: self._pull_guides(hall))

    def _pull_guides(self, hall: Hall):
        saved = self._read("guides.json") or {}
        etag = saved.get("etag", "") if self.guides_folder() else ""
        got = self._get("/api/v1/sync/guides", etag)
        if got is None:
            return None
        body, etag = got
        try:
            files = check_paths(body["files"])
        except BadFiles as exc:
            self._reject("guides", str(exc))
            return None
        from kiosk.guides import read_content

        staging = Path(tempfile.mkdtemp(prefix="guides.new-", dir=self.folder))
        try:
            write_files(staging, files)
            content, errors = read_content(staging, hall)
            if content is None:
                shown = [str(e).replace(str(staging) + os.sep, "") for e in errors[:5]]
                self._reject("guides", f"{len(errors)} error(s): " + "; ".join(shown))
                return None
            if body.get("digest") and content.digest != body["digest"]:
                self._reject("guides", f"content digest {content.digest[:12]} differs from the announced "
                                       f"{str(body['digest'])[:12]} (cut off or altered on the way)")
                return None
            self._swap(staging)
            staging = None
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
        self._write("guides.json", {"etag": etag or content.digest})
        self._accepted("guides")
        log.info("guide content %s from the hall server saved (%d guides)", content.digest[:12],
                 len(content.guides))
        return content

    def _swap(self, staging: Path) -> None:
        current, old = self.folder / "guides", self.folder / "guides.old"
        shutil.rmtree(old, ignore_errors=True)
        if current.exists():
            os.replace(current, old)
        os.replace(staging, current)
        shutil.rmtree(old, ignore_errors=True)
        from kiosk.atomic import fsync_dir

        fsync_dir(self.folder)


__all__ = ["ContentSync", "HallPull", "TerminalPull", "ServerError"]
