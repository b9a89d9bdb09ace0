"""First-load weight of a page in real Chromium: every request, bytes on the wire (no tests here).

Used by tests/test_page_weight.py, tests/test_phone_pages.py and bench/pages.py; ``sign_in_page`` by the
browser tests that sign in to a server page. The browser cache
is disabled for the measured page, so the figure is what a first visit costs. An event stream
counts as a request but has no end, so it adds no bytes.
"""

from __future__ import annotations

import os
import subprocess
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


def measure(context, url: str, settle_ms: int = 1200, ready: str | None = None) -> Load:
    """Open ``url`` in a new page of ``context`` with the cache off; every request and its wire bytes."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sent: dict[str, tuple[str, str]] = {}
    done: dict[str, int] = {}
    order: list[str] = []
    documents: list[str] = []  # a page that sends its reader on by script loads a second document

    def will_send(e):
        rid = e["requestId"]
        if rid not in sent:
            order.append(rid)
        sent[rid] = (e["request"]["method"], e["request"]["url"])  # a redirect keeps the id: its last URL
        if e.get("type") == "Document" and rid not in documents:
            documents.append(rid)

    cdp.on("Network.requestWillBeSent", will_send)
    cdp.on("Network.loadingFinished", lambda e: done.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    load = Load(url)
    response = page.goto(url, wait_until="load")
    load.status = response.status if response else 0
    if ready:
        page.wait_for_selector(ready)
    page.wait_for_timeout(settle_ms)  # late fetches (a second snapshot request would show here)
    # the faces of the page the reader ends up on: read before the settling, a page that sends its reader
    # on by script (/county -> /login) could answer for its first document, with no face loaded yet
    page.wait_for_load_state("load")
    load.fonts_loaded = evaluate_after_redirects(page, FONTS_JS)
    # weigh the page the reader ends up on: from its document on
    kept = order[order.index(documents[-1]):] if documents else order
    for rid in kept:
        method, u = sent[rid]
        load.requests.append((method, u, done.get(rid, 0)))
    load.bytes = sum(done.get(rid, 0) for rid in kept)
    cdp.detach()
    page.close()
    return load


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
    """First load of every server page (signed in as ``username`` where a page needs it) and both phone pages."""
    loads: dict[str, Load] = {}
    desk = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        loads["/login"] = measure(desk, base + "/login")
        loads["/display"] = measure(desk, base + "/display", ready=".tv-win")
        sign_in(desk, base, username, password)
        for path in staff_pages():
            if path not in loads:
                loads[path] = measure(desk, base + path)
    finally:
        desk.close()
    phone = browser.new_context(**PHONE)
    try:
        loads["/q/{token}"] = measure(phone, f"{base}/q/{ticket_token}", ready="#number")
        loads["/g/{id}"] = measure(phone, f"{base}/g/{guide_id}", ready="#guide-name")
    finally:
        phone.close()
    return loads


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
