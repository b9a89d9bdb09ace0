"""呼叫工作人员 in real Chromium: the console and the admin page show a terminal's help request live,
with the hall's time in a UTC browser, and 已处理 on one page clears it on the other."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_server_browser import OUT  # noqa: E402
from test_server_support import PASSWORD, enroll_terminal, start_server  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("help-browser")
    h = start_server(f"sqlite:///{tmp / 'server.db'}", tmp)
    enroll_terminal(h, "1号取号机")
    yield h
    h.stop()


def signed_in(browser, hall, user: str, path: str, problems: list):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="UTC",
                              bypass_csp=True)
    page = ctx.new_page()
    page.on("pageerror", lambda e: problems.append(f"{path}: {e}"))
    page.goto(hall.url + path)
    page.wait_for_url("**/login**")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"**{path}")
    page.wait_for_selector("#link:has-text('实时'), #link:has-text('已连接')")
    return ctx, page


def test_help_banner_on_console_and_admin(browser, hall):
    OUT.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    console_ctx, console = signed_in(browser, hall, "clerk", "/console", problems)
    admin_ctx, admin = signed_in(browser, hall, "sup", "/admin", problems)

    r = hall.api("POST", "/api/v1/terminals/help", token="1号取号机")
    assert r.status_code == 201, r.text
    hall_time = time.strftime("%H:%M", time.gmtime(r.json()["at"] + 8 * 3600))  # Asia/Shanghai, no DST

    for page in (console, admin):
        alert = page.wait_for_selector(".help-alert:has-text('1号取号机 请求协助')", timeout=10000)
        assert alert.query_selector(".help-time").inner_text() == hall_time  # not the browser's UTC
    console.screenshot(path=str(OUT / "console-help.png"))

    console.click(".help-alert button:has-text('已处理')")
    for page in (console, admin):  # gone for every staff member
        page.wait_for_selector(".help-alert", state="detached", timeout=10000)

    admin.reload()  # a page opened later shows only what is still open
    admin.wait_for_selector("#help-alerts", state="attached")
    assert admin.query_selector(".help-alert") is None
    assert problems == []
    console_ctx.close()
    admin_ctx.close()
