"""The pages' web font: WOFF2 subsets of the shipped CJK font, cut from the hall's own content.

Chromium rejects the shipped ``.ttc`` as a web font (OTS), and it weighs 5.2 MB. Instead the
server cuts WenQuanYi Micro Hei into slices with fontTools, each declared with its exact
``unicode-range`` in ``/fonts/hall.css``, so a browser downloads only the slices whose
characters a page shows:

- ``core``: every character of the pages and scripts, the hall's names (hall, services,
  windows, green-channel groups, rating reasons) and ASCII. The phone and TV pages need no more.
- ``guides``: the rest of the guide content (the guide pages, the admin's guide list).
- ``names1``/``names2``: the rest of the 2,500 commonest characters (``name_chars.txt``, made by
  ``scripts/make_name_chars.py``), a fallback for staff and visitor names typed into the pages.

The slices are rebuilt when the content changes (checked at server start and whenever the CSS is
asked for: hall version and guide digest) and cached on disk by the hash of their characters, so
a restart with the same content reuses them. Servers sharing the cache folder cut under its lock, so a
slice is cut once between them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kiosk import paths
from kiosk.domain import Hall

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PAGE_SOURCES = ("pages/*.html", "static/*.js", "public.py", "public_html.py")
FAMILY = "HallFont"
BUILD = "2"  # bump when the subsetting options change: cached files are keyed by it and the characters
# Punctuation, and what the browser writes itself (toLocaleDateString("zh-CN"): 11月30日星期一, 下午).
EXTRA = "，。、；：？！“”‘’（）《》【】—…·￥％＋－×÷～年月日星期一二三四五六七八九十天周上午下午时分秒零"


def cache_dir() -> Path:
    env = os.environ.get("KIOSK_FONT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hall-kiosk" / "webfont"


def name_chars() -> set[str]:
    lines = (HERE / "name_chars.txt").read_text(encoding="utf-8").splitlines()
    return _visible("".join(line for line in lines if not line.startswith("#")))


def _visible(text: str) -> set[str]:
    return {c for c in text if c.isprintable() and not c.isspace()}


def page_chars() -> set[str]:
    chars = set()
    for pattern in PAGE_SOURCES:
        for path in sorted(HERE.glob(pattern)):
            chars |= _visible(path.read_text(encoding="utf-8"))
    return chars


def hall_chars(hall: Hall) -> set[str]:
    parts = [hall.name, hall.code]
    parts += [s.name + s.description + s.prefix for s in hall.services]
    parts += [w.name for w in hall.windows]
    parts += [g.name for g in hall.priority_groups]
    parts += [name for _, name in hall.rating_reasons]
    return _visible("".join(parts))


@dataclass(frozen=True)
class Slice:
    name: str
    chars: frozenset[str]

    @property
    def digest(self) -> str:
        return hashlib.sha256((BUILD + "".join(sorted(self.chars))).encode()).hexdigest()[:16]

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.digest}.woff2"

    def unicode_range(self) -> str:
        cps = sorted(ord(c) for c in self.chars)
        runs: list[list[int]] = []
        for cp in cps:
            if runs and runs[-1][1] == cp - 1:
                runs[-1][1] = cp
            else:
                runs.append([cp, cp])
        return ",".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in runs)


def slices(hall: Hall, guide_texts: list[str]) -> list[Slice]:
    """Disjoint character sets: a page pulls only the slices whose characters it shows."""
    core = page_chars() | hall_chars(hall) | {chr(c) for c in range(0x20, 0x7F)} | set(EXTRA)
    guides = set()
    for text in guide_texts:
        guides |= _visible(text)
    guides -= core
    rest = sorted(name_chars() - core - guides)
    half = len(rest) // 2
    out = [Slice("core", frozenset(core)), Slice("guides", frozenset(guides)),
           Slice("names1", frozenset(rest[:half])), Slice("names2", frozenset(rest[half:]))]
    return [s for s in out if s.chars]


def build_slice(s: Slice, folder: Path, font_path: Path = paths.FONT_PATH) -> Path:
    """The slice's WOFF2 file, made with fontTools unless the cache has it."""
    target = folder / s.filename
    if target.exists():
        return target
    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # "FFTM NOT subset" is expected
    font = TTFont(str(font_path), fontNumber=0)
    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False  # screens at page sizes need none; saves a third
    options.name_IDs = ["*"]  # keep the licence and names
    options.notdef_outline = True
    options.drop_tables += ["vhea", "vmtx"]  # the pages lay text out horizontally
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[ord(c) for c in s.chars])
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff2"
    font.save(buf)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(buf.getvalue())
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target


def _low_priority(parent: int | None = None) -> None:
    """The cutting child's set-up: low priority, and it dies with the server (a server stopped or
    killed mid-cut must not leave it running on its own)."""
    try:
        os.nice(10)  # cutting fonts must not slow down issuing tickets
    except OSError:
        pass
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    if parent is not None and os.getppid() != parent:  # the server died before the line above
        os._exit(1)


def _cut_in_child(parts: list[Slice], folder: Path) -> None:
    """Cut ``parts`` in a child process at low priority: the server's threads keep the GIL and the CPU."""
    if not parts:
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_low_priority,
                                 initargs=(os.getpid(),)) as pool:
            for future in [pool.submit(build_slice, p, folder) for p in parts]:
                future.result()
    except Exception as exc:  # no child process possible here: cut them in this thread instead
        log.warning("web font: cutting in a child process failed (%s); cutting in the server", exc)


@contextmanager
def _cut_lock(folder: Path):
    """Hold the folder's cutting lock: servers on one machine (a county's, tests' in parallel) cut a slice
    once between them, not once each. Without a lockable file there, no lock."""
    try:
        import fcntl

        folder.mkdir(parents=True, exist_ok=True)
        f = open(folder / ".cut.lock", "a")
    except (ImportError, OSError):
        yield
        return
    with f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def cut_missing(parts: list[Slice], folder: Path) -> None:
    """Cut the slices the folder lacks, one server at a time: a server that waited for another's cut
    finds those slices made and cuts only what is still missing."""
    def missing() -> list[Slice]:
        return [p for p in parts if not (folder / p.filename).exists()]

    if missing():
        with _cut_lock(folder):
            _cut_in_child(missing(), folder)


@dataclass(frozen=True)
class Built:
    key: tuple
    css: bytes
    css_gz: bytes
    etag: str
    files: dict[str, Path]  # filename -> path


def _css(built_slices: list[Slice]) -> str:
    faces = []
    for s in built_slices:
        faces.append(f'@font-face{{font-family:"{FAMILY}";font-display:swap;'
                     f'src:url("/fonts/{s.filename}") format("woff2");unicode-range:{s.unicode_range()}}}')
    return "/* WenQuanYi Micro Hei (Apache-2.0), cut to this hall's content */\n" + "\n".join(faces) + "\n"


class WebFonts:
    """The current slices and their CSS; rebuilt in the background when the content moves."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder or cache_dir()
        self._built: Built | None = None
        self._files: dict[str, Path] = {}  # every slice built, so a page loaded before a rebuild still gets its files
        self._lock = threading.Lock()
        self._building: tuple | None = None
        self._ready = threading.Event()

    def refresh(self, key: tuple, content) -> threading.Thread | None:
        """Rebuild for ``key`` (e.g. hall version and guide digest) unless built or under way.
        ``content()`` returns (hall, guide texts), read only when a build is needed."""
        with self._lock:
            if (self._built and self._built.key == key) or self._building == key:
                return None
            self._building = key
        try:
            # read on the caller's thread: the build thread never holds a database connection (a daemon
            # thread reading the guides while `kiosk serve` stopped left server.db-wal behind at exit)
            found = content()
        except Exception:
            log.exception("web font build failed; pages use the visitor's own fonts")
            self._done(key)
            return None
        t = threading.Thread(target=self._build, args=(key, found), name="webfont", daemon=True)
        t.start()
        return t

    def _done(self, key: tuple) -> None:
        with self._lock:
            if self._building == key:
                self._building = None
        self._ready.set()

    def _build(self, key: tuple, found: tuple) -> None:
        try:
            hall, texts = found
            parts = slices(hall, texts)
            cut_missing(parts, self.folder)
            files = {s.filename: build_slice(s, self.folder) for s in parts}
            css = _css(parts).encode()
            built = Built(key, css, gzip.compress(css, 9), hashlib.sha256(css).hexdigest()[:16], files)
            with self._lock:
                self._built = built
                self._files.update(files)
            log.info("web font: %s", ", ".join(f"{s.name} {len(s.chars)} chars" for s in parts))
        except Exception:
            log.exception("web font build failed; pages use the visitor's own fonts")
        finally:
            self._done(key)

    def current(self, wait_s: float = 60.0) -> Built | None:
        """The latest build; waits for the first one (a later change is served when done)."""
        if self._built is None:
            self._ready.wait(wait_s)
        return self._built

    def file(self, name: str) -> Path | None:
        return self._files.get(name)
