"""First-load weight of a page in real Chromium: every request, bytes on the wire (no tests here).

Used by tests/test_page_weight.py, tests/test_phone_pages.py and bench/pages.py; ``sign_in_page`` by the
browser tests that sign in to a server page. The browser cache
is disabled for the measured page, so the figure is what a first visit costs. An event stream
counts as a request but has no end, so it adds no bytes.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
             locale="zh-CN", user_agent="Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 "
                                        "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.47")


@dataclass
class Load:
    url: str
    status: int = 0
    bytes: int = 0
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # (method, url, bytes)
    fonts_loaded: list[str] = field(default_factory=list)  # HallFont faces the page loaded

    def duplicates(self) -> list[str]:
        seen = Counter((m, u) for m, u, _ in self.requests)
        return [f"{m} {u} x{n}" for (m, u), n in seen.items() if n > 1]

    def summary(self) -> dict:
        return {"bytes": self.bytes, "requests": len(self.requests), "fonts": len(self.fonts_loaded)}


def cjk_system_fonts(env: dict | None = None) -> list[str]:
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=20,
                             env=env).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in out.splitlines() if line.strip()]


def have_chromium() -> bool:
    return os.path.exists(CHROMIUM)


FONTS_JS = """() => document.fonts.ready.then(() => [...document.fonts]
    .filter(f => f.family.replace(/["']/g, '') === 'HallFont' && f.status === 'loaded')
    .map(f => f.unicodeRange.slice(0, 40)))"""


class Measuring:
    """A page opened by ``start_measure``: its requests are being counted until ``finish``."""

    def __init__(self, context, url: str, ready: str | None):
        self.url = url
        self.page = page = context.new_page()
        self.cdp = cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.sent: dict[str, tuple[str, str]] = {}
        self.done: dict[str, int] = {}
        self.order: list[str] = []
        self.documents: list[str] = []  # a page that sends its reader on by script loads a second document
        cdp.on("Network.requestWillBeSent", self._will_send)
        cdp.on("Network.loadingFinished", lambda e: self.done.__setitem__(e["requestId"], int(e["encodedDataLength"])))
        response = page.goto(url, wait_until="commit")  # loads on while others start: ``loaded`` waits for it
        self.status = response.status if response else 0
        self.ready = ready
        self.loaded_at: float | None = None

    def loaded(self) -> Measuring:
        """Wait until the page has loaded (and shows ``ready``, if given); its settling time starts now."""
        if self.loaded_at is None:
            self.page.wait_for_load_state("load")
            if self.ready:
                self.page.wait_for_selector(self.ready)
            self.loaded_at = time.monotonic()
        return self

    def _will_send(self, e) -> None:
        rid = e["requestId"]
        if rid not in self.sent:
            self.order.append(rid)
        self.sent[rid] = (e["request"]["method"], e["request"]["url"])  # a redirect keeps the id: its last URL
        if e.get("type") == "Document" and rid not in self.documents:
            self.documents.append(rid)

    def finish(self, settle_ms: int = 1200) -> Load:
        """Every request of the page once it has stood ``settle_ms`` since it loaded (late fetches: a second
        snapshot request would show here), and the HallFont faces it loaded."""
        page = self.loaded().page
        left = settle_ms - (time.monotonic() - self.loaded_at) * 1000
        if left > 0:
            page.wait_for_timeout(left)
        # the faces of the page the reader ends up on: read before the settling, a page that sends its reader
        # on by script (/county -> /login) could answer for its first document, with no face loaded yet
        page.wait_for_load_state("load")
        load = Load(self.url, self.status)
        load.fonts_loaded = evaluate_after_redirects(page, FONTS_JS)
        # weigh the page the reader ends up on: from its document on
        kept = self.order[self.order.index(self.documents[-1]):] if self.documents else self.order
        for rid in kept:
            method, u = self.sent[rid]
            load.requests.append((method, u, self.done.get(rid, 0)))
        load.bytes = sum(self.done.get(rid, 0) for rid in kept)
        self.cdp.detach()
        page.close()
        return load


def start_measure(context, url: str, ready: str | None = None) -> Measuring:
    """Open ``url`` in a new page of ``context`` with the cache off, counting every request and its wire
    bytes; ``.finish()`` gives the ``Load``. Several pages may be under way at once (``measure_all``)."""
    return Measuring(context, url, ready)


def measure(context, url: str, settle_ms: int = 1200, ready: str | None = None) -> Load:
    """Open ``url`` in a new page of ``context`` with the cache off; every request and its wire bytes."""
    return start_measure(context, url, ready).finish(settle_ms)


def evaluate_after_redirects(page, script: str, tries: int = 5):
    """Evaluate once the page stays put: a page that sends its reader elsewhere by script (a hall
    user opening /county goes to the hall's console) destroys the context mid-evaluate."""
    from playwright.sync_api import Error

    for _ in range(tries - 1):
        try:
            return page.evaluate(script)
        except Error as exc:
            if "context was destroyed" not in str(exc):
                raise
            page.wait_for_timeout(300)
            page.wait_for_load_state("networkidle")
    return page.evaluate(script)


def staff_pages() -> list[str]:
    """Every page the server ships (server/pages/*.html), by its path."""
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "server" / "pages"
    return sorted("/" + p.stem for p in folder.glob("*.html"))


# Counts a page's fetch() calls (every API call of server/static/*.js goes through fetch; the event
# stream is an EventSource, not counted): installed on a context by ``track_fetches``, read by ``settle``.
TRACK_FETCHES = """(() => {
  const s = window.__fetches = {open: 0, last: performance.now()};
  const f = window.fetch;
  window.fetch = function (...args) {
    s.open++; s.last = performance.now();
    return f.apply(this, args).then(r => r.clone().arrayBuffer().then(() => r, () => r))
      .finally(() => { s.open--; s.last = performance.now(); });
  };
})();"""


def track_fetches(context) -> None:
    """Every page of ``context`` counts its fetches from its first script on (for ``settle``)."""
    context.add_init_script(TRACK_FETCHES)


def settle(page, quiet_ms: int = 500, timeout: float = 30_000) -> None:
    """Wait until ``page`` (on a context given ``track_fetches``) has no fetch open and started or ended
    none for ``quiet_ms``: what its scripts asked the server for has come, bodies included, and been drawn."""
    page.wait_for_function(f"window.__fetches && window.__fetches.open === 0 && "
                           f"performance.now() - window.__fetches.last > {quiet_ms}", timeout=timeout, polling=100)


def sign_in_page(page, base: str, username: str, password: str, lands) -> None:
    """Sign ``page`` in through the server's /login form and wait until it lands on ``lands`` (a URL glob
    or predicate, e.g. "**/admin**"): the sign-in the browser tests share."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_url(lands)


def sign_in(context, base: str, username: str, password: str) -> None:
    page = context.new_page()
    sign_in_page(page, base, username, password, lambda u: "/login" not in u)
    page.close()


def measure_all(browser, base: str, username: str, password: str, ticket_token: str, guide_id: str) -> dict[str, Load]:
    """First load of every server page (signed in as ``username`` where a page needs it) and both phone pages.

    The pages load and settle together, each in a context of its own (its own connections: a browser holds at
    most six to one server, and the pages' event streams keep theirs); each is read once it has stood its
    full settling time after its load. Signed-in pages share the sign-in's cookies."""
    desk = dict(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    contexts = []

    def context(**options):
        contexts.append(browser.new_context(**options))
        return contexts[-1]

    try:
        signed = context(**desk)
        sign_in(signed, base, username, password)
        state = signed.storage_state()
        under_way = {"/login": start_measure(context(**desk), base + "/login"),
                     "/display": start_measure(context(**desk), base + "/display", ready=".tv-win")}
        for path in staff_pages():
            if path not in under_way:
                under_way[path] = start_measure(context(**desk, storage_state=state), base + path)
        under_way["/q/{token}"] = start_measure(context(**PHONE), f"{base}/q/{ticket_token}", ready="#number")
        under_way["/g/{id}"] = start_measure(context(**PHONE), f"{base}/g/{guide_id}", ready="#guide-name")
        for m in under_way.values():
            m.loaded()  # every page has loaded before the first is read: they settle together
        return {path: m.finish() for path, m in under_way.items()}
    finally:
        for c in contexts:
            c.close()


def no_cjk_fontconfig(folder) -> dict:
    """Environment for a Chromium that sees no CJK system font (fontconfig rejects every file that
    covers Chinese), so a page can only draw Chinese with the web font it serves."""
    from pathlib import Path

    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rejects = "".join(f"<glob>{f}</glob>" for f in files)
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
                    f"<selectfont><rejectfont>{rejects}</rejectfont></selectfont>\n"
                    f"<cachedir>{folder / 'cache'}</cachedir>\n</fontconfig>\n", encoding="utf-8")
    return dict(os.environ, FONTCONFIG_FILE=str(conf))


def warm_fonts(base: str, timeout_s: float = 240.0) -> None:
    """Wait until the server has cut its font slices (once per content and machine, then cached)."""
    import time

    import requests

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if "@font-face" in requests.get(base + "/fonts/hall.css", timeout=30).text:
            return
        time.sleep(0.5)
    raise AssertionError(f"{base}: no font slices after {timeout_s:.0f} s")
