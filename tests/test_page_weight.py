"""Every server page's first load in real Chromium: under 400 KB in all (every request counted, on
the wire), no request made twice, nothing from outside the server, Chinese drawn with the served
font slices (HallFont), which together weigh under 300 KB."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from page_weight import measure_all, staff_pages, warm_fonts  # noqa: E402
from test_server_support import PASSWORD, ROOT, start_server  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def loads(tmp_path_factory, browser_no_cjk):
    tmp = tmp_path_factory.mktemp("weight")
    hall = start_server(f"sqlite:///{tmp / 'server.db'}", tmp)  # open every day and hour
    try:
        r = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor"})
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        warm_fonts(hall.url)  # cut once per content and machine, then cached
        yield hall, measure_all(browser_no_cjk, hall.url, "boss", PASSWORD, token, "dibao-shenqing")
    finally:
        hall.stop()


def test_every_page_is_measured(loads):
    _, got = loads
    assert set(staff_pages()) <= set(got)
    assert {"/q/{token}", "/g/{id}"} <= set(got)


def test_every_page_first_load_under_400_kb_without_duplicates(loads):
    hall, got = loads
    for path, load in got.items():
        assert load.status == 200, (path, load.status)
        assert load.bytes < 400_000, (path, load.bytes, load.requests)
        assert not load.duplicates(), (path, load.duplicates())
        outside = [u for _, u, _ in load.requests if not u.startswith(hall.url) and not u.startswith("data:")]
        assert not outside, (path, outside)
        assert not [u for _, u, _ in load.requests if u.endswith(".ttc")], path
    display = [u for _, u, _ in got["/display"].requests if u.endswith("/api/v1/display")]
    assert len(display) == 1, display  # the snapshot once, not again when the stream opens


def test_pages_draw_chinese_with_the_served_font(loads):
    _, got = loads
    for path, load in got.items():
        assert load.fonts_loaded, f"{path}: no HallFont face loaded"
    assert got["/q/{token}"].bytes < 150_000


def test_font_slices_weigh_under_300_kb_together(loads):
    hall, _ = loads
    import requests

    css = requests.get(hall.url + "/fonts/hall.css", timeout=60).text
    import re

    files = re.findall(r'url\("(/fonts/[^"]+\.woff2)"\)', css)
    assert {f.split("/")[-1].split("-")[0] for f in files} == {"core", "guides", "names1", "names2"}
    sizes = [len(requests.get(hall.url + f, timeout=30).content) for f in files]
    assert sum(sizes) < 300_000, sizes
    assert max(sizes) < 200_000, sizes
