"""What a queue ticket (and a printer test page) says, as a device-neutral Document."""

from __future__ import annotations

import time
import zoneinfo
from datetime import datetime

from .config import PrinterSettings
from .document import QR, Cut, Document, Feed, Rule, Text
from .domain import Ticket
from .textwidth import columns_for, text_width

DEFAULT_TIPS = "过号请重新取号，请留意叫号"


def _headline(text: str, columns: int) -> Text:
    """Double size when it fits on one line, double height only otherwise."""
    width = 2 if text_width(text) * 2 <= columns else 1
    return Text(text, "center", width, 2, bold=True)


def _windows_text(windows: list[int]) -> str:
    return "、".join(str(n) for n in windows) + " 号窗口"


def ticket_document(hall_name: str, ticket: Ticket, service_name: str, people_ahead: int, windows: list[int], *,
                    paper_width_mm: int = 80, qr_data: str | None = None, tips: str = DEFAULT_TIPS,
                    timezone: str = "Asia/Shanghai", priority_label: str | None = None) -> Document:
    """The ticket a visitor takes away: hall, large number, service, where and how long, QR, tips, cut.

    ``qr_data`` is the URL where a phone follows the queue (``{public_url}/q/{token}``);
    without one the ticket has no QR (a bare id means nothing to a phone). ``priority_label`` (e.g.
    "绿色通道") is printed under the number for a green-channel ticket.
    """
    columns = columns_for(paper_width_mm)
    issued = datetime.fromtimestamp(ticket.issued_at, zoneinfo.ZoneInfo(timezone))
    doc = Document(title=f"ticket {ticket.number}")
    doc.add(_headline(hall_name, columns))
    doc.add(Rule())
    doc.add(Text(service_name, "center", 1, 2, bold=True))
    doc.add(Text(ticket.number, "center", 4, 4, bold=True))
    if priority_label:
        doc.add(Text(f"【{priority_label}】", "center", 1, 2, bold=True))
    doc.add(Feed(1))
    if windows:
        doc.add(Text(f"办理窗口：{_windows_text(windows)}"))
    doc.add(Text(f"前面等候：{max(people_ahead, 0)} 人"))
    doc.add(Text(f"取号时间：{issued:%Y-%m-%d %H:%M}"))
    doc.add(Feed(1))
    if qr_data:
        doc.add(QR(qr_data, module_size=5 if paper_width_mm == 58 else 6))
        doc.add(Text("手机扫码查看排队进度", "center"))
    doc.add(Rule())
    if tips:
        doc.add(Text(tips, "center"))
    doc.add(Cut())
    return doc


def sample_ticket(paper_width_mm: int = 80, hall_name: str = "青石镇便民服务中心") -> Document:
    """A typical ticket for previews and `kiosk ticket render`."""
    issued = datetime(2026, 3, 9, 9, 41, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")).timestamp()
    ticket = Ticket(id="qingshi-20260309-A017", number="A017", service="labor", day="2026-03-09", seq=17,
                    issued_at=issued)
    return ticket_document(hall_name, ticket, "劳动保障", 6, [1, 2], paper_width_mm=paper_width_mm,
                           qr_data="http://192.168.1.10:8080/q/AAAcKZ3xq0Vb9fE2mTq4nLx8")


def test_page_document(settings: PrinterSettings, timezone: str = "Asia/Shanghai",
                       now: float | None = None) -> Document:
    """`kiosk printer test`: what an installer needs to see on paper to trust the settings.

    The time is the hall's (``timezone``), like the tickets, not the machine's.
    """
    printed = datetime.fromtimestamp(time.time() if now is None else now, zoneinfo.ZoneInfo(timezone))
    columns = settings.columns
    ruler = "".join(str(i % 10) for i in range(1, columns + 1))
    where = settings.port or settings.host or settings.kind
    doc = Document(title="printer test")
    doc.add(Text("打印测试 Printer test", "center", 1, 2, bold=True))
    doc.add(Rule())
    doc.add(Text(f"端口 port: {where}  {settings.baud} bps"))
    doc.add(Text(f"型号 profile: {settings.profile.name}"))
    doc.add(Text(f"纸宽 paper: {settings.paper_width_mm} mm  编码 encoding: {settings.encoding.upper()}"))
    doc.add(Text(f"时间 time: {printed:%Y-%m-%d %H:%M:%S}"))
    doc.add(Text(ruler))
    doc.add(Text("中文：便民服务中心，请留意叫号。"))
    doc.add(Text("标点：，。、；：！？（）《》“”…—"))
    doc.add(Text("ASCII: 0123456789 ABC abc #$%&*"))
    doc.add(Text("倍高 2x", "center", 2, 2))
    doc.add(Text("A001", "center", 4, 4, bold=True))
    doc.add(QR("PRINTER-TEST-OK", module_size=5))
    doc.add(Text("扫码应显示 PRINTER-TEST-OK", "center"))
    doc.add(Cut())
    return doc


test_page_document.__test__ = False  # a page for printers, not a test: keep pytest from collecting it
