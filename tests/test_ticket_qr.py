"""The QR a dispenser prints opens the visitor's phone page, online and offline.

A real hall server and a terminal enrolled with it print through the preview printer (the exact
ESC/POS bytes and a picture). The QR is read back three ways: the payload of the printer's native QR
command in the bytes, zbar on the ticket picture, and zbar on a symbol drawn from the bytes' payload
with the module size the bytes ask for. Each must be the page's URL, and the URL must open the ticket.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from escpos_decode import decode  # noqa: E402

from .sync_support import RestartableServer, enrolled_terminal, quick_backoff  # noqa: E402

zbar = pytest.importorskip("pyzbar.pyzbar", reason="pyzbar and libzbar0 read the printed QR codes")


def zbar_read(path_or_image) -> list[str]:
    from PIL import Image

    img = path_or_image if isinstance(path_or_image, Image.Image) else Image.open(path_or_image)
    return [r.data.decode() for r in zbar.decode(img.convert("L")) if r.type == "QRCODE"]


def symbol_from_bytes(payload: bytes, module: int):
    """What a printer draws for GS ( k: the stored data at the commanded module size (EC level M)."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module, border=4)
    code.add_data(payload)
    return code.make_image().get_image()


def read_print(printer) -> tuple[str, list[str], list[str]]:
    path = printer.saved[-1]
    out = decode(path.read_bytes())
    assert len(out.qr_payloads) == 1, out.qr_payloads
    payload = out.qr_payloads[0]
    return payload.decode(), zbar_read(path.with_suffix(".png")), zbar_read(symbol_from_bytes(payload, out.qr_module_sizes[0]))


@pytest.fixture
def server(tmp_path):
    s = RestartableServer(tmp_path / "server")
    r = s.hall.api("PUT", "/api/v1/hall/public-url", token="sup", json={"public_url": s.url})
    assert r.status_code == 200, r.text
    yield s
    s.stop()


def terminal(server, tmp_path, name="qr-disp"):
    from devices.printer.preview import PreviewPrinter
    from devices.voice import FakeVoice
    from kiosk.config import load_terminal
    from kiosk.terminal import build_terminal

    path = enrolled_terminal(server, tmp_path, name)
    printer = PreviewPrinter(tmp_path / name / "prints")
    t = build_terminal(load_terminal(path), printer=printer, voice=FakeVoice(), background=False)
    return t, printer


def test_online_ticket_qr_opens_its_live_page(server, tmp_path):
    t, printer = terminal(server, tmp_path)
    try:
        assert t.hall.public_url == server.url  # synced with the hall
        outcome = t.issue("labor", wait_for_print=True)
        assert outcome.print_state == "printed"
        url, from_png, from_bytes = read_print(printer)
        token = server.hall.api("GET", "/api/v1/tickets", token="terminal").json()["tickets"][-1]["token"]
        assert url == f"{server.url}/q/{token}"
        assert outcome.phone_url == url  # the same address the screen and `kiosk terminal issue` give
        assert from_png == [url] and from_bytes == [url]
        assert "手机扫码查看排队进度" in decode(printer.saved[-1].read_bytes()).text()
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and outcome.number in page.text and "等候中" in page.text
    finally:
        t.close()


def test_offline_ticket_qr_says_syncing_then_shows_the_ticket(server, tmp_path, monkeypatch):
    quick_backoff(monkeypatch)
    t, printer = terminal(server, tmp_path, "qr-offline")
    try:
        server.kill()
        outcome = t.issue("medical", wait_for_print=True)
        assert t.status_marker() == "离线" and outcome.number[1] != "0"  # the offline series, e.g. BX001
        url, from_png, from_bytes = read_print(printer)
        assert url.startswith(server.url + "/q/") and from_png == [url] and from_bytes == [url]
        server.start()
        before = requests.get(url, timeout=10)
        assert before.status_code == 200 and "正在同步" in before.text and outcome.number not in before.text
        state = requests.get(url.replace("/q/", "/api/v1/public/tickets/"), timeout=10).json()
        assert state["state"] == "syncing"
        t.backend.push()
        after = requests.get(url, timeout=10)
        assert after.status_code == 200 and outcome.number in after.text and "等候中" in after.text
    finally:
        t.close()


class SampleHallServer(RestartableServer):
    """The shipped sample hall, which the shipped guides are written for."""

    def __init__(self, tmp: Path):
        from kiosk import paths

        from .test_server_support import start_server

        tmp.mkdir(parents=True, exist_ok=True)
        self.tmp, self.db_url, self.starts = tmp, f"sqlite:///{tmp / 'server.db'}", 1
        self.hall = start_server(self.db_url, tmp, hall_text=paths.SAMPLE_HALL.read_text(encoding="utf-8"))
        self.url = self.hall.url
        self.port = int(self.url.rsplit(":", 1)[1])


def test_notice_slip_qr_opens_the_guide_page(tmp_path):
    server = SampleHallServer(tmp_path / "sample")
    r = server.hall.api("PUT", "/api/v1/hall/public-url", token="sup", json={"public_url": server.url})
    assert r.status_code == 200, r.text
    t, printer = terminal(server, tmp_path, "qr-notice")
    try:
        guide = t.guides.guide("dibao-shenqing")
        done = []
        t.print_notice(guide, on_done=done.append, wait=True)
        assert done == [""]
        url, from_png, from_bytes = read_print(printer)
        assert url == f"{server.url}/g/dibao-shenqing"
        assert from_png == [url] and from_bytes == [url]
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and guide.name in page.text
    finally:
        t.close()
        server.stop()


def test_without_public_address_tickets_have_no_qr(server, tmp_path):
    r = server.hall.api("PUT", "/api/v1/hall/public-url", token="sup", json={"public_url": ""})
    assert r.status_code == 200 and r.json()["public_url"] == ""
    bad = server.hall.api("PUT", "/api/v1/hall/public-url", token="sup", json={"public_url": "javascript:alert(1)"})
    assert bad.status_code == 422 and bad.json()["field"] == "public_url"
    clerk = server.hall.api("PUT", "/api/v1/hall/public-url", token="clerk", json={"public_url": ""})
    assert clerk.status_code == 403
    t, printer = terminal(server, tmp_path, "qr-none")
    try:
        t.issue("labor", wait_for_print=True)
        out = decode(printer.saved[-1].read_bytes())
        assert out.qr_payloads == [] and "扫码" not in out.text()
        assert zbar_read(printer.saved[-1].with_suffix(".png")) == []
    finally:
        t.close()
