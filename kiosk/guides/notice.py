"""The 一次性告知单: one slip that tells a visitor everything a case needs, at once.

Built as a device-neutral Document; devices.printer turns it into ESC/POS
bytes or a PNG. Lines with a label hang their continuation under the value
(not under the label), so the slip is wrapped here to the paper's columns;
the renderers then find every line already fits and leave it alone.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.document import QR, Cut, Document, Feed, Rule, Text
from kiosk.domain import Hall
from kiosk.textwidth import columns_for, text_width, wrap

from .model import Guide

TITLE = "一次性告知单"
BOX = "□"  # a tick box the visitor marks when a material is ready


def _hanging(head: str, text: str, columns: int, indent: int | None = None) -> str:
    """``head`` then ``text`` wrapped so that following lines start under the text."""
    indent = text_width(head) if indent is None else indent
    if indent > columns // 2:  # a long head: continue on the next line instead
        return head.rstrip() + "\n" + _hanging(" " * 4, text, columns)
    lines = wrap(text, columns - indent) if text else [""]
    pad = " " * indent
    return "\n".join([head + lines[0]] + [pad + line for line in lines[1:]])


def _field(label: str, value: str, columns: int) -> Text:
    return Text(_hanging(f"{label}：", value, columns))


def _window_text(guide: Guide, hall: Hall | None) -> str:
    window = hall.window(guide.window) if hall else None
    return f"{guide.window}号窗口" + (f"（{window.name}）" if window and window.name else "")


def notice_slip(guide: Guide, hall: Hall | None = None, *, width_mm: int = 80, qr_data: str = "",
                printed_at: datetime | None = None) -> Document:
    """The slip for ``guide`` on paper ``width_mm`` wide (58 or 80).

    ``qr_data`` is what the QR code holds (see GuideCatalogue.guide_url); no QR when empty.
    """
    columns = columns_for(width_mm)
    if printed_at is None:  # the hall's wall clock, not the machine's zone
        from zoneinfo import ZoneInfo

        printed_at = datetime.now(ZoneInfo(hall.timezone)) if hall is not None else datetime.now()
    doc = Document(title=f"{TITLE} {guide.name}")
    doc.add(Text(TITLE, align="center", width=2, height=2, bold=True))
    if hall is not None:
        doc.add(Text(hall.name, align="center"))
    doc.add(Rule("="))
    doc.add(Text(_hanging("办理事项：", guide.name, columns), bold=True))
    doc.add(_field("事项类型", guide.case_type, columns))
    doc.add(_field("受理窗口", _window_text(guide, hall), columns))
    doc.add(Rule())
    doc.add(Text(f"申请材料（共{len(guide.materials)}项，备齐请打勾）", bold=True))
    for n, m in enumerate(guide.materials, 1):
        head = f"{BOX}{n}."
        doc.add(Text(_hanging(head, m.name, columns)))
        detail = f"{m.form} {m.count}份" + (f"；{m.notes}" if m.notes else "")
        doc.add(Text(_hanging(" " * text_width(head), detail, columns)))
    doc.add(Rule())
    doc.add(_field("法定时限", guide.legal_limit, columns))
    doc.add(_field("承诺时限", guide.promised_limit, columns))
    doc.add(_field("收费标准", guide.fees, columns))
    doc.add(_field("办理结果", guide.result, columns))
    doc.add(_field("咨询电话", guide.contact, columns))
    if guide.notes:
        doc.add(Rule())
        doc.add(Text("注意事项", bold=True))
        for note in guide.notes:
            doc.add(Text(_hanging("· ", note, columns)))
    doc.add(Rule())
    if qr_data:
        doc.add(QR(qr_data, module_size=6 if width_mm >= 80 else 4))
        doc.add(Text("扫码查看办事指南全文", align="center"))
    doc.add(Text(f"打印时间：{printed_at:%Y-%m-%d %H:%M}", align="center"))
    doc.add(Text("请备齐材料后到窗口办理", align="center"))
    doc.add(Feed(2))
    doc.add(Cut())
    return doc
