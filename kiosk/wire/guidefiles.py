"""Guide content on the wire: a guide folder as ``{relative path: file text}``.

The hall server stores and serves that map; a terminal writes it into a fresh
folder, validates it there with the very loader it uses for shipped content
(``kiosk.guides.read_content``) and swaps the folder in only when it is clean.
The version is the loader's digest of the files, so it is the same number on
both sides.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from kiosk.config import ConfigError
from kiosk.domain import Hall

MAX_FILES = 2000
MAX_BYTES = 20_000_000
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")


class BadFiles(Exception):
    """The map itself is unusable (not the content inside it)."""


def folder_to_files(folder: Path | str) -> dict[str, str]:
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*.toml")) if p.is_file()}


def check_paths(files: object) -> dict[str, str]:
    """The map, if its shape and every path are acceptable; else ``BadFiles``."""
    if not isinstance(files, dict) or not files:
        raise BadFiles("files must be a non-empty object {path: text}")
    if len(files) > MAX_FILES:
        raise BadFiles(f"too many files ({len(files)} > {MAX_FILES})")
    total = 0
    for path, text in files.items():
        if not isinstance(path, str) or not isinstance(text, str):
            raise BadFiles("every path and every file must be a string")
        parts = path.split("/")
        if not path.endswith(".toml") or not all(_PART.match(p) for p in parts) or len(parts) > 4:
            raise BadFiles(f"bad file path '{path[:120]}' (relative, a-z 0-9 _ . -, ending in .toml)")
        total += len(text.encode("utf-8", "surrogatepass"))
    if total > MAX_BYTES:
        raise BadFiles(f"content too large ({total} bytes)")
    return files


def write_files(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())


def validate_files(files: object, hall: Hall | None, scratch: Path | None = None):
    """(GuideContent or None, errors) for a files map, read from a scratch folder.

    Error file names are the map's relative paths, so they mean something to the
    person who sent them.
    """
    from kiosk.guides import read_content

    try:
        files = check_paths(files)
    except BadFiles as exc:
        return None, [ConfigError("-", 0, "files", str(exc))]
    base = Path(tempfile.mkdtemp(prefix="guides-check-", dir=scratch))
    try:
        write_files(base, files)
        content, errors = read_content(base, hall)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    prefix = str(base) + os.sep
    errors = [ConfigError(e.file.replace(prefix, ""), e.line, e.field, e.message) for e in errors]
    return content, errors
