"""The console and the hall display reconnect by themselves (issue 13 point 4): real Chromium, a real
server process SIGKILLed and started again on the same port and database. Without reloading, both
pages show that the link is down, then come back and show a call made after the restart."""

from __future__ import annotations

import pytest

from .sync_support import RestartableServer
from .test_server_support import PASSWORD
from .page_weight import sign_in_page

pytestmark = pytest.mark.browser


def test_console_and_display_come_back_after_the_server_is_killed_and_restarted(browser, tmp_path):
    server = RestartableServer(tmp_path / "server")
    problems: list[str] = []
    try:
        hall = server.hall
        hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor"})
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN", bypass_csp=True)
        display = ctx.new_page()
        display.on("pageerror", lambda e: problems.append(f"display: {e}"))
        display.goto(hall.url + "/display")
        display.wait_for_selector(".tv-win")
        console = ctx.new_page()
        console.on("pageerror", lambda e: problems.append(f"console: {e}"))
        sign_in_page(console, hall.url, "clerk", PASSWORD, "**/console")
        console.select_option("#window", "1")
        console.wait_for_selector("#link:has-text('已连接')")
        for page in (display, console):
            page.evaluate("window.__sameLoad = true")  # gone if the page were reloaded

        server.kill()  # SIGKILL: no goodbye to the streams
        console.wait_for_selector("#link:has-text('连接中断')", timeout=20_000)
        display.wait_for_selector("#offline:not([hidden])", state="attached", timeout=20_000)

        server.start()  # the same port and database
        console.wait_for_selector("#link:has-text('已连接')", timeout=30_000)
        display.wait_for_selector("#offline", state="hidden", timeout=30_000)
        ticket = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "spare"}).json()
        r = hall.api("POST", "/api/v1/windows/4/call-next", token="sup")
        assert r.status_code == 200 and r.json()["ticket"]["number"] == ticket["number"], r.text
        display.wait_for_function("document.querySelector('#now .tv-number') && "
                                  "document.querySelector('#now .tv-number').textContent === %r" % ticket["number"],
                                  timeout=20_000)  # the call after the restart came through the new stream
        labor = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor"}).json()
        console.wait_for_function("[...document.querySelectorAll('#waiting li .num')].some(e => e.textContent === %r)"
                                  % labor["number"], timeout=20_000)
        for page in (display, console):
            assert page.evaluate("window.__sameLoad === true")  # no reload: the pages reconnected themselves
        assert not problems, problems
        ctx.close()
    finally:
        server.stop()
