"""核实, overdue and the 好差评 export against a real server (SQLite and PostgreSQL).

The export test reads the field table of docs/haochaping-export.md and checks
the CSV and the JSON against it: the header is the documented field list, every
value has the documented type, and the CSV parsed back by the document's rules
gives the JSON records.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import time
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_server_ratings import RATING_HALL, finished_ticket  # noqa: E402
from test_server_support import BACKENDS, hall_today, ROOT, db_url_for, enroll_terminal, start_server  # noqa: E402
from page_weight import sign_in_page  # noqa: E402

DOC = ROOT / "docs" / "haochaping-export.md"
DAY = 86400


@pytest.fixture(scope="module", params=BACKENDS)
def hall(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"haochaping-{request.param}")
    db_url, drop = db_url_for(request.param, tmp)
    h = start_server(db_url, tmp, RATING_HALL)
    request.addfinalizer(drop)
    request.addfinalizer(h.stop)
    enroll_terminal(h, "eval1", "evaluator", 1)
    # a 工号, and a name a spreadsheet must quote (comma and quotes)
    r = h.api("PATCH", "/api/v1/users/clerk", json={"staff_no": "GH-0107", "display_name": '王芳, "小王"'})
    assert r.status_code == 200, r.text
    return h


def walk_in(hall, level, reasons=(), window=2, at=None, token="sup"):
    body = {"key": uuid.uuid4().hex, "level": level, "reasons": list(reasons), "window": window}
    if at is not None:
        body["created_at"] = at
    r = hall.api("POST", "/api/v1/ratings", token=token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def stats(hall, day=None):
    q = f"?from={day}&to={day}" if day else ""
    r = hall.api("GET", "/api/v1/stats/ratings" + q, token="sup")
    assert r.status_code == 200, r.text
    return r.json()


def verify(hall, followup_id, verdict, reason="查看了评价器记录和监控", token="sup"):
    return hall.api("POST", f"/api/v1/followups/{followup_id}/verify", token=token,
                    json={"verdict": verdict, "reason": reason})


# ------------------------------------------------------------------ 核实

def test_a_rejected_bad_rating_is_kept_but_leaves_the_satisfaction_rate(hall):
    day = hall_today().isoformat()
    before = stats(hall, day)
    good = walk_in(hall, 5)
    bad = walk_in(hall, 1, ["attitude"])
    mid = stats(hall, day)
    assert mid["total"] == before["total"] + 2 and mid["bad"] == before["bad"] + 1
    r = verify(hall, bad["followup_id"], "rejected", "监控显示群众误按，当场已说明")
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["state"] == "rejected" and case["state_name"] == "核实不属实" and case["overdue"] is False
    assert case["verification"]["verdict"] == "rejected" and case["verification"]["by"] == "sup"
    assert case["verification"]["reason"] == "监控显示群众误按，当场已说明"
    after = stats(hall, day)
    assert after["total"] == before["total"] + 1 and after["bad"] == before["bad"]
    assert after["levels"]["1"] == before["levels"]["1"]
    assert after["rejected"] == before["rejected"] + 1
    assert "核实不属实的差评" in after["note"] and "满意率" in after["note"]
    # kept: still listed, with its verdict; the good one is untouched
    listed = {x["id"]: x for x in hall.api("GET", "/api/v1/ratings", token="sup").json()}
    assert listed[bad["id"]]["verdict"] == "rejected" and listed[bad["id"]]["level"] == 1
    assert listed[good["id"]]["verdict"] is None
    # once: a second verdict, or a rectification of the closed case, is refused
    assert verify(hall, bad["followup_id"], "confirmed").status_code == 409
    r = hall.api("POST", f"/api/v1/followups/{bad['followup_id']}/rectify", token="sup", json={"note": "x"})
    assert r.status_code == 409


def test_a_confirmed_bad_rating_counts_and_its_case_goes_on(hall):
    day = hall_today().isoformat()
    bad = walk_in(hall, 2, ["slow"])
    before = stats(hall, day)
    r = verify(hall, bad["followup_id"], "confirmed", "窗口人员承认办理拖延")
    assert r.status_code == 200 and r.json()["state"] == "open"
    assert stats(hall, day)["bad"] == before["bad"] and stats(hall, day)["rejected"] == before["rejected"]
    r = hall.api("POST", f"/api/v1/followups/{bad['followup_id']}/rectify", token="sup", json={"note": "已约谈"})
    assert r.status_code == 200 and r.json()["verification"]["verdict"] == "confirmed"


def test_verify_refusals_name_the_field(hall):
    bad = walk_in(hall, 1, ["other"])
    fid = bad["followup_id"]
    assert verify(hall, fid, "rejected", token="clerk").status_code == 403  # window staff judge no rating
    r = verify(hall, fid, "maybe")
    assert r.status_code == 422 and r.json()["field"].endswith("verdict")
    r = verify(hall, fid, "rejected", reason="   ")
    assert r.status_code == 422 and "reason" in r.json()["field"]
    assert verify(hall, uuid.uuid4().hex, "rejected").status_code == 404
    # after the call back closed the case, no verdict any more
    hall.api("POST", f"/api/v1/followups/{fid}/rectify", token="sup", json={"note": "已整改"})
    hall.api("POST", f"/api/v1/followups/{fid}/callback", token="sup", json={"note": "已回访"})
    assert verify(hall, fid, "rejected").status_code == 409


def test_overdue_cases_are_flagged_in_the_ratings_list_and_rejected_ones_never(hall):
    assert hall.api("PUT", "/api/v1/rating-settings", token="sup", json={"followup_days": 1}).status_code == 200
    try:
        old = walk_in(hall, 1, ["attitude"], at=time.time() - 10 * DAY)
        older = walk_in(hall, 2, ["slow"], at=time.time() - 10 * DAY)
        fresh = walk_in(hall, 1, ["attitude"])
    finally:
        hall.api("PUT", "/api/v1/rating-settings", token="sup", json={"followup_days": 15})
    assert verify(hall, older["followup_id"], "rejected").status_code == 200
    start = hall_today(11).isoformat()
    listed = {x["id"]: x for x in hall.api("GET", f"/api/v1/ratings?from={start}&bad=true", token="sup").json()}
    assert listed[old["id"]]["overdue"] is True and listed[old["id"]]["followup_state"] == "open"
    assert listed[older["id"]]["overdue"] is False and listed[older["id"]]["followup_state"] == "rejected"
    assert listed[fresh["id"]]["overdue"] is False
    overdue = {f["rating"]["id"] for f in hall.api("GET", "/api/v1/followups?overdue=true", token="sup").json()}
    assert old["id"] in overdue and older["id"] not in overdue and fresh["id"] not in overdue


# ------------------------------------------------------------------ the export against its document

def documented_fields() -> list[tuple[str, str]]:
    """(field, type) rows of the '## Fields' table of docs/haochaping-export.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Fields", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # header, rule
    out = [tuple(cell.strip() for cell in row.strip("|").split("|")[:2]) for row in rows]
    assert len(out) > 20
    return out


TYPE_RE = {
    "integer": r"-?\d+", "boolean": r"true|false", "date": r"\d{4}-\d{2}-\d{2}",
    "datetime": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", "text": r"(?s).*", "list": r"(?s).*",
}


def parse_cell(cell: str, kind: str):
    """A CSV cell read back by the document's rules."""
    if kind == "list":
        return cell.split("|") if cell else []
    if cell == "":
        return "" if kind == "text" else None
    assert re.fullmatch(TYPE_RE[kind], cell), (kind, cell)
    if kind == "integer":
        return int(cell)
    if kind == "boolean":
        return cell == "true"
    return cell


def check_json_value(value, kind: str):
    if kind == "text":
        assert isinstance(value, str)
    elif kind == "list":
        assert isinstance(value, list) and all(isinstance(x, str) and "|" not in x for x in value)
    elif value is not None:
        if kind == "integer":
            assert isinstance(value, int) and not isinstance(value, bool)
        elif kind == "boolean":
            assert isinstance(value, bool)
        else:
            assert isinstance(value, str) and re.fullmatch(TYPE_RE[kind], value), (kind, value)


def test_the_export_round_trips_through_its_documented_format(hall):
    fields = documented_fields()
    # a rating from the window's evaluator on a finished ticket, a bad one typed in by a supervisor, an unrated one
    ticket = finished_ticket(hall, 1, "labor", "clerk")
    r = hall.api("POST", "/api/v1/ratings", token="eval1",
                 json={"key": uuid.uuid4().hex, "ticket": ticket["id"], "level": 2, "reasons": ["attitude", "slow"]})
    assert r.status_code == 201, r.text
    pad = r.json()
    typed = walk_in(hall, 4, window=2)
    walk_in(hall, None, window=2)  # unrated: not exported
    fid = pad["followup_id"]
    assert verify(hall, fid, "confirmed", "调取录音，情况属实").status_code == 200
    assert hall.api("POST", f"/api/v1/followups/{fid}/rectify", token="sup",
                    json={"note": '约谈窗口人员, 补充"一次性告知"清单'}).status_code == 200
    assert hall.api("POST", f"/api/v1/followups/{fid}/callback", token="sup",
                    json={"note": "电话回访，群众满意", "satisfied": True}).status_code == 200

    today = hall_today().isoformat()
    start = hall_today(12).isoformat()
    r = hall.api("GET", f"/api/v1/ratings/export?from={start}&to={today}&format=csv", token="sup")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == [f for f, _ in fields]
    j = hall.api("GET", f"/api/v1/ratings/export?from={start}&to={today}&format=json", token="sup")
    assert j.status_code == 200
    body = j.json()
    assert body["format"] == "hall-kiosk-haochaping/1" and body["hall_code"] == "testhall"
    records = body["records"]
    assert body["count"] == len(records) == len(rows) - 1 > 3
    for rec, row in zip(records, rows[1:]):
        assert list(rec) == [f for f, _ in fields]
        for (name, kind), cell in zip(fields, row):
            check_json_value(rec[name], kind)
            assert parse_cell(cell, kind) == rec[name], (name, cell, rec[name])
    by_id = {rec["rating_id"]: rec for rec in records}
    assert all(rec["level"] in (1, 2, 3, 4, 5) for rec in records)  # unrated visits are not exported
    p = by_id[pad["id"]]
    assert p["channel"] == "pad" and p["channel_name"] == "窗口评价器"
    assert p["staff_no"] == "GH-0107" and p["staff_name"] == '王芳, "小王"'
    assert p["window"] == 1 and p["window_name"] == "劳动保障" and p["service_code"] == "labor"
    assert p["ticket_number"] == ticket["number"] and p["level_name"] == "不满意"
    assert p["reasons"] == ["attitude", "slow"] and p["reason_names"] == ["服务态度差", "办事效率低"]
    assert p["verified"] is True and p["verify_result"] == "confirmed" and p["counted"] is True
    assert p["followup_state"] == "called_back" and p["rectify_note"] == '约谈窗口人员, 补充"一次性告知"清单'
    assert p["callback_satisfied"] is True and p["rectified_at"] and p["called_back_at"]
    assert p["rated_at"].endswith("+08:00")
    t = by_id[typed["id"]]
    assert t["channel"] == "staff" and t["followup_state"] == "" and t["verified"] is False and t["bad"] is False
    rejected = [rec for rec in records if rec["verify_result"] == "rejected"]
    assert rejected and all(rec["counted"] is False and rec["followup_state"] == "rejected" for rec in rejected)


def test_export_refusals(hall):
    assert hall.api("GET", "/api/v1/ratings/export", token="clerk").status_code == 403
    assert hall.api("GET", "/api/v1/ratings/export", token="terminal").status_code == 403
    r = hall.api("GET", "/api/v1/ratings/export?format=xml", token="sup")
    assert r.status_code == 422 and r.json()["field"] == "format"
    r = hall.api("GET", "/api/v1/ratings/export?from=2026-02-30", token="sup")
    assert r.status_code == 422 and r.json()["field"] == "from"


def test_item_code_is_known_only_when_one_guide_leads_to_the_service():
    from server.rating_export import service_items

    files = {"medical/a.toml": 'id = "a"\nservice = "medical"\n', "labor/b.toml": 'id = "b"\nservice = "labor"\n',
             "labor/c.toml": 'id = "c"\nservice = "labor"\n', "catalogue.toml": 'id = "x"\nservice = "y"\n',
             "bad.toml": "id = \n"}
    assert service_items(files) == {"medical": "a"}


# ------------------------------------------------------------------ the pages

@pytest.mark.browser
def test_verify_on_the_followups_page_and_overdue_on_the_ratings_page(browser, tmp_path):
    from test_server_browser import OUT
    from test_server_support import PASSWORD

    h = start_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path, RATING_HALL)
    try:
        h.api("PUT", "/api/v1/rating-settings", token="sup", json={"followup_days": 1})
        late = walk_in(h, 1, ["attitude"], at=time.time() - 5 * DAY)
        h.api("PUT", "/api/v1/rating-settings", token="sup", json={"followup_days": 15})
        wrong = walk_in(h, 2, ["slow"])
        walk_in(h, 5)
        OUT.mkdir(parents=True, exist_ok=True)
        problems: list[str] = []
        page = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN").new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        sign_in_page(page, h.url, "sup", PASSWORD, "**/admin**")
        page.goto(h.url + "/followups")
        card = page.locator(f"article[id='{wrong['followup_id']}']")
        card.wait_for()
        page.screenshot(path=str(OUT / "haochaping-followups-open.png"), full_page=True)
        card.locator("textarea[aria-label='核实情况']").fill("监控显示群众按错了键")
        card.locator("button:has-text('核实不属实')").click()
        page.wait_for_selector("#toast >> text=不计入满意率")
        page.click("#states button[data-state='rejected']")
        page.wait_for_selector(f"article[id='{wrong['followup_id']}'] .done-mark")
        assert "监控显示群众按错了键" in card.inner_text() and "不计入满意率" in card.inner_text()
        page.screenshot(path=str(OUT / "haochaping-followups.png"), full_page=True)
        start = hall_today(6).isoformat()
        page.goto(h.url + f"/ratings?from={start}&to={hall_today().isoformat()}")
        page.wait_for_selector("#bad tr.overdue-row")
        row = page.locator("#bad tr.overdue-row")
        assert row.count() == 1 and "已逾期" in row.inner_text() and "待整改" in row.inner_text()
        assert page.locator("#bad tr.rejected-row").count() == 1
        assert "核实不属实的差评 1 条" in page.inner_text("#note")
        assert page.inner_text("#rate") == "50.0%"  # 5 and 1 counted; the rejected 2 left out
        assert page.get_attribute("#export", "href").startswith("/api/v1/ratings/export?format=csv")
        page.screenshot(path=str(OUT / "haochaping-ratings.png"), full_page=True)
        assert not problems, problems
        assert late["followup_id"]
    finally:
        h.stop()
