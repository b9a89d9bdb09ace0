"""End to end: a window finishes a ticket on the hall server; the evaluator at that
window asks within a second; the rating reaches the statistics, a bad one the follow-ups."""

from __future__ import annotations


import pytest

from .sync_support import RestartableServer, build, enrolled_terminal, quick_backoff, wait_for

pytestmark = pytest.mark.ui


def test_console_finish_prompts_evaluator_and_bad_rating_reaches_followups(tmp_path, monkeypatch,
                                                                            harness_factory):
    quick_backoff(monkeypatch)
    server = RestartableServer(tmp_path / "server")
    try:
        term = build(enrolled_terminal(server, tmp_path, "eval-1", mode="evaluator"))  # bound to window 1
        h = harness_factory(term)
        assert h.sm.current == "evaluator"
        assert "1 号窗口" in h.sm.get_screen("evaluator").window_label.text
        hall = server.hall
        clerk = hall.login("clerk")
        issued = hall.api("POST", "/api/v1/tickets", json={"service": "labor"})
        assert issued.status_code == 201, issued.text
        number = issued.json()["number"]
        assert hall.api("POST", "/api/v1/windows/1/call-next", token=clerk).status_code == 200
        assert hall.api("POST", "/api/v1/windows/1/start", token=clerk).status_code == 200
        assert hall.api("POST", "/api/v1/windows/1/finish", token=clerk).status_code == 200
        # the prompt comes from the event stream ("within a second": bench/sync_drain.py measures it)
        assert h.wait(lambda: h.sm.current == "rate", timeout=15)
        rate = h.sm.get_screen("rate")
        h.pump(3)  # let the screen that just appeared lay itself out before touching it
        assert number in rate.title.text
        h.tap(rate.buttons[1])  # 非常不满意
        assert h.sm.current == "reasons"
        reasons = h.sm.get_screen("reasons")
        h.tap(reasons.toggles["slow"])
        h.tap(reasons.phone)  # the phone number is an optional button beside 提交
        assert h.sm.current == "phone"
        phone = h.sm.get_screen("phone")
        for digit in "13800138000":
            phone.type(digit)
        phone.confirm()
        assert h.sm.current == "thanks"
        assert wait_for(lambda: term.backend.outbox.size() == 0, 15)  # delivered through the outbox
        stats = hall.api("GET", "/api/v1/stats/ratings", token=hall.login("sup"))
        assert stats.status_code == 200, stats.text
        body = stats.json()
        assert body["total"] == 1 and body["bad"] == 1 and body["satisfaction_rate"] == 0, body["levels"]
        followups = hall.api("GET", "/api/v1/followups", token=hall.login("sup")).json()
        assert len(followups) == 1 and followups[0]["state"] == "open"
        assert followups[0]["rating"]["ticket_number"] == number
        assert followups[0]["rating"]["reasons"] == ["slow"]
        # window staff never see who gave which rating
        assert hall.api("GET", "/api/v1/ratings", token=clerk).status_code == 403
    finally:
        server.stop()
