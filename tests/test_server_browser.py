"""Real Chromium (Debian's) against a real server: sign in, call, see it on the hall display.

Screenshots land in tmp/out/ (console, display, admin) for a person to look at.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import PASSWORD, ROOT, start_server  # noqa: E402
from page_weight import sign_in_page  # noqa: E402

OUT = ROOT / "tmp" / "out"

pytestmark = pytest.mark.browser

# The hall TV's speech (server/static/display.js speak): each utterance ends at once, its text kept.
INSTANT_SPEECH = """
window.spokenTexts = [];
if (window.speechSynthesis) {
  speechSynthesis.speak = u => {
    window.spokenTexts.push(u.text);
    setTimeout(() => u.onend && u.onend(new Event("end")), 0);
  };
}
"""


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    h = start_server(f"sqlite:///{tmp / 'server.db'}", tmp)
    from page_weight import warm_fonts

    warm_fonts(h.url)  # the font slices are cut once per content and machine (then cached)
    yield h
    h.stop()


def test_staff_calls_and_display_shows_it(browser, hall):
    OUT.mkdir(parents=True, exist_ok=True)
    issued = [hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": s}).json()
              for s in ("labor", "labor", "medical", "labor")]
    hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "medical", "priority": "elderly"})
    first = issued[0]["number"]
    problems: list[str] = []

    display_ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN", bypass_csp=True)  # our CSP forbids eval, which wait_for_function uses
    # a speech engine that speaks at once and keeps what it was asked to say: the machine's own either
    # fails at once (Debian's Chromium: synthesis-failed) or never answers (the page then waits out its
    # fallback, 2.5 s + 0.4 s a character: ~12 s a call, so the third call's turn came ~24 s after the
    # first and the wait below timed out at 20 s)
    display_ctx.add_init_script(INSTANT_SPEECH)
    display = display_ctx.new_page()
    display.on("pageerror", lambda e: problems.append(f"display: {e}"))
    display.goto(hall.url + "/display")
    display.wait_for_selector(".tv-win")

    console_ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", bypass_csp=True)  # our CSP forbids eval, which wait_for_function uses
    console = console_ctx.new_page()
    console.on("pageerror", lambda e: problems.append(f"console: {e}"))
    console.goto(hall.url + "/console")
    console.wait_for_url("**/login**")  # no session yet: sent to sign in
    console.fill("#username", "clerk")
    console.fill("#password", "wrong password")
    console.click("#submit")
    console.wait_for_selector("#error:has-text('用户名或密码错误')")
    console.fill("#password", PASSWORD)
    console.click("#submit")
    console.wait_for_url("**/console")
    console.select_option("#window", "1")
    console.wait_for_selector("#waiting li .num")
    assert console.inner_text("#waiting li .num") == first
    console.screenshot(path=str(OUT / "console-idle.png"))

    console.click("#call-next")
    console.wait_for_function("document.getElementById('number').textContent === %r" % first)
    assert "已叫号" in console.inner_text("#state")
    assert console.is_enabled("#recall") and console.is_enabled("#no-show")

    # the TV shows the call: big "now" panel, the window's slot, the spoken text
    display.wait_for_function("document.querySelector('#now .tv-number') && "
                              "document.querySelector('#now .tv-number').textContent === %r" % first, timeout=10_000)
    display.wait_for_function("window.hallDisplay.announced.length > 0", timeout=10_000)
    assert display.evaluate("window.hallDisplay.announced[0]") == f"请 {first} 号到 1 号窗口办理"
    display.wait_for_function("document.getElementById('windows').textContent.includes(%r)" % first)
    assert first in display.inner_text("#recent")

    # two quick calls are announced one after the other, in order
    console.click("#start")
    console.wait_for_selector("#state:has-text('办理中')")
    console.screenshot(path=str(OUT / "console-serving.png"))
    console.click("#call-next")
    console.wait_for_function("document.getElementById('number').textContent === %r" % issued[1]["number"])
    console.click("#recall")
    display.wait_for_function("window.hallDisplay.announced.length >= 3", timeout=20_000)
    assert display.evaluate("window.hallDisplay.announced") == [
        f"请 {first} 号到 1 号窗口办理", f"请 {issued[1]['number']} 号到 1 号窗口办理",
        f"请 {issued[1]['number']} 号到 1 号窗口办理"]
    display.wait_for_function("window.spokenTexts.length >= 3", timeout=10_000)
    digits = str.maketrans("0123456789", "零一二三四五六七八九")
    assert display.evaluate("window.spokenTexts") == [
        f"请 {n.translate(digits)} 号到 1 号窗口办理" for n in (first, issued[1]["number"], issued[1]["number"])]
    # the picture once the call's flash (three 1 s blinks of #now) has run out
    display.wait_for_function("document.getElementById('now').getAnimations().length === 0", timeout=10_000)
    display.screenshot(path=str(OUT / "display.png"))

    # transfer through the dialog
    console.click("#transfer")
    console.click("#to-services button:has-text('医疗保障')")
    console.wait_for_selector("#state:has-text('空闲')")
    console.screenshot(path=str(OUT / "console-after-transfer.png"))

    # the supervisor's statistics page with its chart
    admin_ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN", bypass_csp=True)  # our CSP forbids eval, which wait_for_function uses
    admin = admin_ctx.new_page()
    admin.on("pageerror", lambda e: problems.append(f"admin: {e}"))
    sign_in_page(admin, hall.url, "sup", PASSWORD, "**/admin")
    admin.wait_for_selector("#stats-service table")
    assert "劳动保障" in admin.inner_text("#stats-service")
    admin.screenshot(path=str(OUT / "admin-stats.png"), full_page=True)
    admin.goto(hall.url + "/admin#terminals")
    admin.wait_for_selector("#terminals-table table")
    assert "dispenser-1" in admin.inner_text("#terminals-table")
    admin.click("#code-form button")
    admin.wait_for_selector(".code-box")
    admin.screenshot(path=str(OUT / "admin-terminals.png"), full_page=True)
    admin.goto(hall.url + "/admin#services")
    admin.wait_for_selector("#services-table table")
    admin.screenshot(path=str(OUT / "admin-services.png"), full_page=True)

    # a window clerk may not open the admin pages
    console.goto(hall.url + "/admin")
    console.wait_for_url("**/login?denied=1")

    assert not problems, problems
    for ctx in (display_ctx, console_ctx, admin_ctx):
        ctx.close()


def test_display_clock_uses_the_halls_zone_in_a_utc_browser(browser, hall):
    """One clock: a TV box set to UTC still shows the hall's time (Asia/Shanghai)."""
    import time as _time

    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN", timezone_id="UTC",
                              bypass_csp=True)
    page = ctx.new_page()
    page.goto(hall.url + "/display")
    page.wait_for_selector(".tv-win")
    hall_hour = _time.strftime("%H", _time.gmtime(_time.time() + 8 * 3600))
    utc_hour = _time.strftime("%H", _time.gmtime())
    page.wait_for_function(f"document.getElementById('clock').textContent.startsWith('{hall_hour}:')",
                           timeout=5000)
    assert not page.inner_text("#clock").startswith(f"{utc_hour}:")  # 8 hours apart, never equal
    ctx.close()
