"""The dispenser screens on a hall server that goes away: the grid keeps issuing, the header says 离线."""

from __future__ import annotations

from datetime import datetime

import pytest

from .sync_support import RestartableServer, build, enrolled_terminal, quick_backoff, wait_for

pytestmark = pytest.mark.ui


def test_grid_issues_offline_and_the_header_shows_the_marker(tmp_path, monkeypatch):
    from tests.offscreen import Harness

    quick_backoff(monkeypatch)
    server = RestartableServer(tmp_path / "server")
    h = None
    try:
        term = build(enrolled_terminal(server, tmp_path, "ui"))
        h = Harness(term)
        grid = h.sm.get_screen("grid")

        def take(code: str) -> str:
            h.sm.current = "grid"
            h.pump()
            grid._busy_until = 0.0  # a visitor, not a double tap
            h.tap(grid._card_by_code[code])
            assert h.sm.current == "ticket"
            number = h.sm.get_screen("ticket").number.text
            grid.tick_clock(datetime.now())
            return number

        assert take("labor") == "A0001"
        assert set(grid._card_by_code) == {"labor", "medical", "small", "spare"}  # the server's hall
        assert grid.header.status_text == ""
        server.kill()
        assert take("labor") == f"A{term.backend.series}0001"
        assert grid.header.status_text == "离线"
        assert take("spare") == f"D{term.backend.series}001"
        assert term.backend.outbox.size() == 2
        server.start()
        assert wait_for(lambda: term.backend.online and term.backend.outbox.size() == 0, 20)
        grid.tick_clock(datetime.now())
        assert grid.header.status_text == ""  # online again
        assert take("labor") == "A0002"
        numbers = sorted(t["number"] for t in server.tickets())
        assert numbers == sorted(["A0001", f"A{term.backend.series}0001", f"D{term.backend.series}001", "A0002"])
    finally:
        if h is not None:
            h.close()
        server.stop()
