"""Real Chromium against a two-hall server: a county user lands on /county, watches it refresh, and works
in one hall's pages from there; a hall supervisor does not get in. Screenshots in tmp/out/county*.png."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_server_browser import OUT  # noqa: E402
from test_server_halls import B, HALL_B  # noqa: E402
from test_server_support import PASSWORD, kiosk_cli, start_server  # noqa: E402
from page_weight import settle, sign_in_page, track_fetches  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def county(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("county-browser")
    hall = start_server(f"sqlite:///{tmp / 'server.db'}", tmp)
    request.addfinalizer(hall.stop)  # also when the setup below fails
    (tmp / "b.toml").write_text(HALL_B, encoding="utf-8")
    assert kiosk_cli("admin", "add-hall", "--db", hall.db_url, str(tmp / "b.toml")).returncode == 0
    users = (("cadmin", "county-admin", []), ("cview", "county-viewer", []),
             ("bclerk", "window", ["--hall", B, "--window", "1"]))
    for name, role, extra in users:  # in this process (add-hall above is the real `kiosk` run)
        done = kiosk_cli("admin", "add-user", name, "--role", role, "--password-stdin", "--db", hall.db_url, *extra,
                         stdin=PASSWORD + "\n", inproc=True)
        assert done.returncode == 0, done.stderr
    out = kiosk_cli("admin", "enrollment-code", "--db", hall.db_url, "--hall", B, "--name", "北村取号机", inproc=True)
    r = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": out.stdout.strip(), "name": "x"})
    hall.tokens["bterm"] = r.json()["token"]
    hall.api("POST", "/api/v1/terminals/heartbeat", token="bterm", json={"paper": "near_end"})
    for service in ("labor", "labor", "medical"):
        hall.api("POST", "/api/v1/tickets", token="bterm", json={"service": service})
    hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor"})
    return hall


def test_county_admin_watches_every_hall_and_enters_one(browser, county):
    OUT.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    ctx = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN", bypass_csp=True)
    page = ctx.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in_page(page, county.url, "cadmin", PASSWORD, "**/county")
    page.wait_for_selector(f"tr[data-hall='{B}']")
    rows = page.locator("#county tbody tr")
    assert rows.count() == 2
    b_row = page.locator(f"tr[data-hall='{B}']")
    assert "北村便民服务中心" in b_row.inner_text() and "纸将用尽" in b_row.inner_text()
    assert b_row.locator(".waiting").inner_text() == "3"
    page.screenshot(path=str(OUT / "county.png"), full_page=True)
    # live: a ticket in hall B shows up without reloading
    county.api("POST", "/api/v1/tickets", token="bterm", json={"service": "medical"})
    page.wait_for_function(f"document.querySelector(\"tr[data-hall='{B}'] .waiting\").textContent === '4'",
                           timeout=15000)
    # into hall B's admin page: it works there, shows hall B's staff, and links back
    b_row.locator("a", has_text="管理").click()
    page.wait_for_url(f"**/admin?hall={B}**")
    page.click("a[data-tab='staff']")
    page.wait_for_selector("text=bclerk")
    assert "boss" not in page.inner_text("#tab-staff")
    assert page.locator("#county-back").count() == 1
    assert f"hall={B}" in page.get_attribute("nav a[href^='/ratings']", "href")
    page.screenshot(path=str(OUT / "county-admin-hall-b.png"), full_page=True)
    page.goto(county.url + f"/console?hall={B}")
    page.select_option("#window", "1")
    page.wait_for_selector("#waiting li .num")
    assert page.inner_text("#waiting li .num") == "A0001"  # hall B's first ticket, not hall A's
    assert problems == []
    ctx.close()


def test_viewer_reads_ratings_and_hall_staff_stay_out(browser, county):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN", bypass_csp=True)
    page = ctx.new_page()
    sign_in_page(page, county.url, "cview", PASSWORD, "**/county")
    page.wait_for_selector(f"tr[data-hall='{B}']")
    assert page.locator(f"tr[data-hall='{B}'] a", has_text="管理").count() == 0  # a viewer gets no admin links
    page.locator(f"tr[data-hall='{B}'] a", has_text="评价").click()
    page.wait_for_url(f"**/ratings?**hall={B}**")
    page.wait_for_selector("#rate")
    ctx.close()
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN", bypass_csp=True)
    track_fetches(ctx)
    page = ctx.new_page()
    sign_in_page(page, county.url, "sup", PASSWORD, "**/admin")
    page.goto(county.url + "/county")
    page.wait_for_url("**/login?denied=1")
    page.goto(county.url + f"/admin?hall={B}")  # naming another hall: the API refuses, nothing of B shows
    settle(page)  # every answer in and drawn
    assert "北村" not in page.inner_text("body")
    ctx.close()


def test_hall_pages_link_to_the_halls_report(browser, county):
    """Every hall page with the tab bar links to 统计报表 of the same hall (it was reachable from /reports only)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN", bypass_csp=True)
    page = ctx.new_page()
    sign_in_page(page, county.url, "cadmin", PASSWORD, "**/county")
    for path in ("/admin", "/ratings", "/followups", "/audit"):
        page.goto(county.url + f"{path}?hall={B}")
        page.wait_for_selector("#county-back")
        assert page.get_attribute("nav a[href^='/reports']", "href") == f"/reports?hall={B}", path
    page.click("nav a[href^='/reports']")
    page.wait_for_function("document.querySelector('#issued') && document.querySelector('#issued').textContent !== ''")
    assert B in page.url
    ctx.close()


def test_county_page_fits_a_phone(browser, county):
    """On a phone the page stays in the screen (its tables scroll inside their cards) and the header's words
    are not set one character per line (they were: the grid's cards grew to their widest table)."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", bypass_csp=True)
    track_fetches(ctx)
    page = ctx.new_page()
    sign_in_page(page, county.url, "cadmin", PASSWORD, "**/county")
    page.wait_for_selector(f"tr[data-hall='{B}']")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    title = page.locator("header.bar h1").bounding_box()
    assert title["width"] > title["height"], title  # one line, not a column of characters
    for label in ("叫号", "报表"):
        box = page.locator(f"tr[data-hall='{B}'] a", has_text=label).first.bounding_box()
        assert box["width"] > box["height"], (label, box)
    page.screenshot(path=str(OUT / "county-phone.png"), full_page=True)
    for path in (f"/ratings?hall={B}", f"/followups?hall={B}", f"/admin?hall={B}", f"/reports?hall={B}"):
        page.goto(county.url + path)
        settle(page)  # the page's tables and charts are filled
        assert path.split("?")[0] in page.url, page.url
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    ctx.close()
