"""What a visitor sees on a real display, and a tap where a tile is drawn: shared by the X and cage tests.

- ``xwd_image``: an X screenshot (``xwd``'s dump, parsed here: no ImageMagick, no python-xlib).
- ``fill_problems``: the attract screen fills the picture (the header's blue across the whole top
  edge, no black band on any side, no black area).
- ``tiles``: the service tiles as drawn (white cards on the page colour), in reading order.
- ``always_open_hall``: the sample hall with every service open every day, so a terminal running
  on the real clock issues tickets whatever the time of the test (the sample hall closes at
  17:30 Beijing time and on weekends), and without the green channel, so one tap on a tile issues
  the ticket (no "priority?" question between).
- ``issued``: the services of the tickets in a terminal's SQLite file.
- ``need_tools``: skip (fail under CI=true) when a display tool the test drives is not installed.
- ``wait_ready``: until the app sends systemd's READY=1 to the test's notify socket.
- ``shoot_until_filled``: screenshots until the attract screen fills the picture.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import struct
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import ROOT

BLUE = (11, 79, 156)  # screens/theme.py: the header
WHITE = (255, 255, 255)  # screens/theme.py: a card
HALL = ROOT / "config" / "hall.toml"


def need_tools(tools: tuple[str, ...]) -> None:
    """Skip when one of ``tools`` is not on PATH; fail instead under CI=true, where setup installs them."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        reason = f"{', '.join(missing)} not installed (bash scripts/setup.sh --test installs them)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def xwd_image(display: str, window: str = "root", prefix: list[str] | None = None):
    """The picture of ``window`` (an X id, or the root) on ``display``, as a PIL RGB image."""
    from PIL import Image

    target = ["-root"] if window == "root" else ["-id", window]
    r = subprocess.run([*(prefix or []), "env", f"DISPLAY={display}", "xwd", "-silent", *target],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    data = r.stdout
    header = struct.unpack(">25I", data[:100])
    size, width, height, byte_order, bpp, line, ncolors = (header[0], header[4], header[5], header[7],
                                                           header[11], header[12], header[19])
    assert bpp in (24, 32), f"xwd: {bpp} bits per pixel, not a TrueColor screen"
    pixels = data[size + 12 * ncolors:]
    mode = "RGBX" if bpp == 32 else "RGB"
    raw = {(32, 0): "BGRX", (32, 1): "XRGB", (24, 0): "BGR", (24, 1): "RGB"}[bpp, byte_order]
    return Image.frombuffer(mode, (width, height), pixels, "raw", raw, line, 1).convert("RGB")


def fill_problems(image) -> list[str]:
    """What keeps ``image`` from being the attract screen edge to edge; empty when it is."""
    w, h = image.size
    problems = []
    top = [image.getpixel((x, 4)) for x in range(w)]
    bad_top = sum(1 for p in top if p != BLUE)
    if bad_top:
        problems.append(f"the header covers {w - bad_top} of {w} px of the top edge")
    edges = [image.getpixel((x, h - 1)) for x in range(w)] + [image.getpixel((0, y)) for y in range(h)] \
        + [image.getpixel((w - 1, y)) for y in range(h)]
    black = sum(1 for p in edges if max(p) < 24)
    if black:
        problems.append(f"{black} black pixels on the bottom, left and right edges")
    grid = [image.getpixel((x, y)) for x in range(0, w, 16) for y in range(0, h, 16)]
    if sum(1 for p in grid if max(p) < 24) / len(grid) >= 0.02:
        problems.append("a black area in the picture")
    return problems


def tiles(image, step: int = 4, min_side: int = 120) -> list[tuple[int, int, int, int]]:
    """The white cards (``min_side`` px wide, half that high at least) as (left, top, right, bottom), row by row.

    A card's text and icon do not split it: its white margin joins around them.
    """
    from PIL import Image

    cols, rows = image.width // step, image.height // step
    small = image.resize((cols, rows), Image.NEAREST).tobytes()  # RGB, 3 bytes a pixel
    card = bytes(WHITE)
    white = [[small[i:i + 3] == card for i in range(r * cols * 3, (r + 1) * cols * 3, 3)] for r in range(rows)]
    seen = [[False] * cols for _ in range(rows)]
    found = []
    for r0 in range(rows):
        for c0 in range(cols):
            if not white[r0][c0] or seen[r0][c0]:
                continue
            seen[r0][c0] = True
            stack, box = [(r0, c0)], [c0, r0, c0, r0]
            while stack:
                r, c = stack.pop()
                box = [min(box[0], c), min(box[1], r), max(box[2], c), max(box[3], r)]
                for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                    if 0 <= rr < rows and 0 <= cc < cols and white[rr][cc] and not seen[rr][cc]:
                        seen[rr][cc] = True
                        stack.append((rr, cc))
            left, top, right, bottom = box[0] * step, box[1] * step, (box[2] + 1) * step, (box[3] + 1) * step
            if right - left >= min_side and bottom - top >= min_side // 2:
                found.append((left, top, right, bottom))
    # reading order: rows (cards whose tops are within half a card of each other), then left to right
    found.sort(key=lambda b: (b[1], b[0]))
    ordered, row = [], []
    for box in found:
        if row and box[1] - row[0][1] > (row[0][3] - row[0][1]) // 2:
            ordered += sorted(row)
            row = []
        row.append(box)
    return ordered + sorted(row)


def wait_ready(sd, proc, tail, timeout: float = 120) -> None:
    """Until READY=1 arrives on ``sd`` (a datagram socket with a short timeout, the app's NOTIFY_SOCKET);
    fails with ``tail()`` (the app's log) when ``proc`` ends first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    ready = False
    while not ready:
        assert proc.poll() is None, "the terminal ended:\n" + tail()
        assert time.monotonic() < deadline, f"no READY=1 within {timeout:.0f} s:\n" + tail()
        try:
            ready = sd.recv(4096).startswith(b"READY=1")
        except TimeoutError:
            pass


def shoot_until_filled(shoot, timeout: float = 60):
    """Screenshots until the attract screen fills the picture (the first frames may be on their way):
    (image, problems), the problems empty once it fills."""
    deadline = time.monotonic() + timeout
    while True:
        image = shoot()
        problems = fill_problems(image)
        if not problems or time.monotonic() > deadline:
            return image, problems
        time.sleep(0.5)


def wait_for_tiles(shoot, count: int, timeout: float = 60, retap=None, retap_after: float = 15):
    """Screenshots from ``shoot()`` until ``count`` tiles are drawn, in the same place in two shots
    in a row (not sliding in): (image, tiles). ``retap()`` is called when no tile has appeared
    for ``retap_after`` seconds, as a visitor taps again: on a loaded machine the app may still
    be finishing its first frames when the first tap arrives (seen in CI at load 14)."""
    deadline = time.monotonic() + timeout
    next_retap = time.monotonic() + retap_after
    before = None
    while True:
        image = shoot()
        found = tiles(image)
        if len(found) == count and found == before or time.monotonic() > deadline:
            return image, found
        if retap is not None and len(found) != count and time.monotonic() > next_retap:
            retap()
            next_retap = time.monotonic() + retap_after
        before = found
        time.sleep(0.3)


def always_open_hall(path: Path) -> Path:
    """A copy of the sample hall at ``path``: every service open at any hour on any day, no green channel."""
    text = HALL.read_text(encoding="utf-8")
    text = re.sub(r"^green_channel = true", "green_channel = false", text, flags=re.M)
    text = re.sub(r'^(\s*hours = )".*?"', r'\1""', text, flags=re.M)
    text = re.sub(r"^(closed_weekdays = )\[.*?\]", r"\1[]", text, flags=re.M)
    text = re.sub(r"^(closed_dates = )\[.*?\]", r"\1[]", text, flags=re.M | re.S)
    path.write_text(text, encoding="utf-8")
    return path


def service_codes(hall: Path) -> list[str]:
    """The hall's services in the order the grid shows them."""
    import tomllib

    return [s["code"] for s in tomllib.loads(hall.read_text(encoding="utf-8"))["services"]]


def issued(db: Path) -> list[str]:
    """The service of every ticket in a terminal's queue database (none if it has no tickets table yet)."""
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return [row[0] for row in con.execute("SELECT service FROM tickets ORDER BY issued_at")]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def wait_for_ticket(db: Path, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        found = issued(db)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)
