"""The notice slip (一次性告知单): its document, its fit on the paper, its printer bytes."""

from __future__ import annotations

from datetime import datetime

import pytest

from kiosk import paths
from kiosk.hall_file import load_hall
from kiosk.document import QR, Cut, Rule, Text
from kiosk.guides import GuideCatalogue, notice_slip
from kiosk.textwidth import columns_for, text_width

AT = datetime(2026, 3, 9, 9, 30)


@pytest.fixture(scope="module")
def catalogue():
    return GuideCatalogue.load()


@pytest.fixture(scope="module")
def hall():
    return load_hall(paths.SAMPLE_HALL)


PUBLIC = "http://192.168.1.10:8080"  # the hall's public address (hall.public_url)


def slip(catalogue, hall, guide_id="dibao-shenqing", width=80):
    guide = catalogue.guide(guide_id)
    return guide, notice_slip(guide, hall, width_mm=width, qr_data=catalogue.guide_url(guide, PUBLIC), printed_at=AT)


def flat(text: str) -> str:
    """Text with the wrapping undone, to look for phrases that may span lines."""
    return "".join(line.strip() for line in text.splitlines())


def test_slip_says_everything_once(catalogue, hall):
    guide, doc = slip(catalogue, hall)
    text = doc.plain_text()
    assert text.startswith("一次性告知单\n青石镇便民服务中心")
    body = flat(text)
    for n, m in enumerate(guide.materials, 1):
        assert f"□{n}.{m.name}" in body
        assert f"{m.form} {m.count}份" in body
    for phrase in ("办理事项：最低生活保障申请", "事项类型：承诺件", "受理窗口：4号窗口（社会救助）",
                   "法定时限：30个工作日", "承诺时限：20个工作日", "收费标准：不收费",
                   "咨询电话：0123-6612304", "打印时间：2026-03-09 09:30"):
        assert phrase in body, phrase
    assert all(flat(note) in body for note in guide.notes)
    qrs = [b for b in doc.blocks if isinstance(b, QR)]
    assert [q.data for q in qrs] == ["http://192.168.1.10:8080/g/dibao-shenqing"]
    assert isinstance(doc.blocks[-1], Cut)
    assert any(isinstance(b, Rule) for b in doc.blocks)


def test_without_hall_or_qr(catalogue):
    guide = catalogue.guide("shebaoka")
    doc = notice_slip(guide, printed_at=AT)
    assert not any(isinstance(b, QR) for b in doc.blocks)
    assert "受理窗口：1号窗口\n" in doc.plain_text() + "\n"


@pytest.mark.parametrize("width", [58, 80])
def test_every_line_fits_the_paper(catalogue, hall, width):
    for guide in catalogue.guides():
        _, doc = slip(catalogue, hall, guide.id, width)
        for block in doc.blocks:
            if isinstance(block, Text) and block.align == "left":
                for line in block.text.split("\n"):
                    assert text_width(line) * block.width <= columns_for(width), (guide.id, line)


def test_continuation_lines_hang_under_the_value(catalogue, hall):
    _, doc = slip(catalogue, hall, width=58)
    result = next(b.text for b in doc.blocks if isinstance(b, Text) and b.text.startswith("办理结果："))
    first, second = result.split("\n")[:2]
    assert second.startswith(" " * text_width("办理结果：")) and not second[10:11].isspace()


def test_escpos_bytes_decode_back(catalogue, hall):
    escpos = pytest.importorskip("devices.printer.escpos")
    _, doc = slip(catalogue, hall, width=58)
    data = escpos.render(doc, escpos.RenderOptions(paper_width_mm=58))
    for phrase in ("一次性告知单", "最低生活保障申请", "□1.户口簿", "原件及复印件 1份", "（社会救助）", "不收费"):
        assert phrase.encode("gb18030") in data, phrase
    assert b"?" not in data.replace(b"http://192.168.1.10:8080/g/dibao-shenqing", b"")
    # GS ( k, function 180 (cn 49, fn 80): store the QR data; then the partial cut ends the job
    store = data.index(b"\x1d(k")
    while data[store + 5:store + 7] != b"1P":
        store = data.index(b"\x1d(k", store + 1)
    length = data[store + 3] + 256 * data[store + 4] - 3
    assert data[store + 8:store + 8 + length] == b"http://192.168.1.10:8080/g/dibao-shenqing"
    assert data.rstrip(b"\n").endswith(b"\x1dVB\x00")
