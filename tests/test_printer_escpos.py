"""Ticket bytes read back: GB18030 text with full-width punctuation, native QR, sizes, cut, budget."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.printer.escpos import RenderOptions, encode_text, render
from kiosk.document import QR, Cut, Document, Feed, Rule, Text
from kiosk.domain import Ticket
from kiosk.textwidth import columns_for, text_width
from kiosk.ticket_layout import sample_ticket, test_page_document, ticket_document
from kiosk.config import PrinterSettings
from kiosk.printer_profiles import profile, resolve

from .escpos_decode import decode

ISSUED = 1773020460.0  # 2026-03-09 09:41 in Asia/Shanghai


def make_ticket(number: str = "B017") -> Ticket:
    return Ticket(id="qingshi-20260309-B017", number=number, service="medical", day="2026-03-09", seq=17,
                  issued_at=ISSUED)


def ticket_bytes(width: int, **kw) -> bytes:
    doc = ticket_document("青石镇便民服务中心", make_ticket(), "医疗保障", 12, [3, 5], paper_width_mm=width, **kw)
    return render(doc, RenderOptions(paper_width_mm=width))


@pytest.mark.parametrize("width", [58, 80])
def test_ticket_reads_back_as_the_visitor_should_see_it(width):
    data = ticket_bytes(width)
    out = decode(data)
    text = out.text()
    assert "青石镇便民服务中心" in text.replace("\n", "")
    assert "医疗保障" in text
    assert "办理窗口：3、5 号窗口" in text
    assert "前面等候：12 人" in text
    assert "取号时间：2026-03-09 09:41" in text
    assert "过号请重新取号，请留意叫号" in text
    assert "?" not in text
    number = next(line for line in out.lines if line.text == "B017")
    assert (number.width, number.height, number.bold, number.align) == (4, 4, True, 1)
    assert out.qr_payloads == []  # no public address: no QR (a bare id means nothing to a phone)
    assert out.cuts == [b"\x1dVB\x00"] and data.endswith(b"\x1dVB\x00")
    assert data.startswith(b"\x1b@\x1c&")  # reset, then Chinese mode
    assert len(data) <= 600


@pytest.mark.parametrize("width", [58, 80])
def test_no_line_is_wider_than_the_paper(width):
    out = decode(ticket_bytes(width))
    for line in out.lines:
        assert text_width(line.text) * line.width <= columns_for(width), line


def test_full_width_punctuation_goes_out_as_gb18030_not_question_marks():
    data = render(Document([Text("请留意叫号，过号请重新取号：谢谢！（一）《指南》“引号”、…—")]))
    assert b"?" not in data
    assert "，".encode("gb18030") in data and "：".encode("gb18030") in data
    lines = [line.text for line in decode(data).lines]
    assert "".join(lines) == "请留意叫号，过号请重新取号：谢谢！（一）《指南》“引号”、…—"
    assert lines[1].startswith("“")  # wrapped after 24 full-width characters (48 columns)


def test_punctuation_only_text_is_still_chinese_encoded():
    # python-escpos sends this as '??' because the string holds no CJK ideograph
    assert render(Document([Text("，：")])).endswith("，：".encode("gb18030") + b"\n")


def test_gbk_option_encodes_gbk_and_marks_what_gbk_lacks():
    data = render(Document([Text("窗口，😀")]), RenderOptions(encoding="gbk"))
    assert "窗口，".encode("gbk") in data
    assert "〓".encode("gbk") in data
    assert b"?" not in data


def test_url_qr_and_its_caption():
    out = decode(ticket_bytes(80, qr_data="http://192.168.1.10:8080/q/AAAcKZ3xq0Vb9fE2mTq4nLx8"))
    assert out.qr_payloads == [b"http://192.168.1.10:8080/q/AAAcKZ3xq0Vb9fE2mTq4nLx8"]
    assert "扫码查看排队进度" in out.text()


def test_qr_is_the_native_command_not_an_image():
    data = render(Document([QR("ABC", module_size=6)]))
    out = decode(data)
    assert out.qr_payloads == [b"ABC"] and out.qr_module_sizes == [6]
    assert b"\x1dv0" not in data and b"\x1d(L" not in data  # no raster image commands
    assert b"\x1d(k\x03\x001Q0" in data  # print the stored symbol


def test_style_commands_are_sent_only_when_the_style_changes():
    data = render(Document([Text("一", bold=True), Text("二", bold=True), Text("三")]))
    assert data.count(b"\x1bE\x01") == 1 and data.count(b"\x1bE\x00") == 1


def test_no_cutter_feeds_instead_of_cutting():
    data = render(Document([Text("x"), Cut()]), RenderOptions(cutter=False))
    assert b"\x1dV" not in data and data.endswith(b"\x1bd\x05")


def test_chinese_mode_can_be_left_off():
    assert not render(Document([Text("中")]), RenderOptions(chinese_mode=False)).startswith(b"\x1b@\x1c&")


def test_control_characters_in_config_text_cannot_become_commands():
    data = render(Document([Text("大厅\x1bd\x09\x07名")]))
    assert decode(data).lines[0].text == "大厅 d  名"


def test_rule_feed_and_full_cut():
    out = decode(render(Document([Rule("="), Feed(2), Cut(partial=False)]), RenderOptions(paper_width_mm=58)))
    assert out.lines[0].text == "=" * 32
    assert b"\x1bd\x02" in out.commands and out.cuts == [b"\x1dVA\x00"]


def test_sample_ticket_and_test_page_fit_their_budget():
    for width in (58, 80):
        assert len(render(sample_ticket(width), RenderOptions(paper_width_mm=width))) <= 600
        page = render(test_page_document(PrinterSettings(profile=resolve(profile("generic-80"), paper_width_mm=width))), RenderOptions(paper_width_mm=width))
        assert decode(page).qr_payloads == [b"PRINTER-TEST-OK"]


CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
PUNCT = st.sampled_from(list("，。、；：！？（）《》“”…—·"))
ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@settings(max_examples=150, deadline=None)
@given(st.text(st.one_of(CJK, PUNCT, ASCII), max_size=120), st.sampled_from([58, 80]),
       st.integers(1, 4), st.sampled_from(["gb18030", "gbk"]))
def test_any_chinese_text_round_trips_without_loss(text, width, mag, encoding):
    data = render(Document([Text(text, width=mag, height=mag)]), RenderOptions(paper_width_mm=width, encoding=encoding))
    lines = decode(data, encoding).lines
    joined = "".join(line.text for line in lines)
    assert joined.replace(" ", "") == text.replace(" ", "")  # wrapping only drops spaces at line breaks
    for line in lines:
        assert text_width(line.text) * mag <= columns_for(width)


def test_encode_text_uses_four_byte_gb18030_for_rare_characters():
    assert encode_text("𠀀", "gb18030") == "𠀀".encode("gb18030") and len(encode_text("𠀀")) == 4
