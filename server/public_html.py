"""The phone pages' HTML, drawn on the server so the first paint already shows the ticket or guide."""

from __future__ import annotations

import json
from html import escape

from kiosk.domain import Hall
from kiosk.guides.model import Guide

RULES = ("叫到您的号码后，请尽快到所示窗口办理，并留意大厅的叫号广播。",
         "叫号后未到窗口的，工作人员可作过号处理；过号的号码不再叫，请到取号机重新取号，按新号码排队。",
         "号码当日有效。本页面只显示您这一个号码，不需要登录，也不能更改或取消号码。")


def _head(title: str, extra_css: str = "") -> str:
    return ("<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1, viewport-fit=cover\">\n"
            "<meta name=\"format-detection\" content=\"telephone=no\">\n"
            f"<title>{escape(title)}</title>\n"
            "<link rel=\"stylesheet\" href=\"/fonts/hall.css\">\n"
            "<link rel=\"stylesheet\" href=\"/static/phone.css\">\n" + extra_css + "</head>\n")


def not_found() -> str:
    return (_head("未找到 · 404") + "<body class=\"ph\">\n<main class=\"ph-main\">\n<div class=\"ph-card ph-404\">"
            "<h1>未找到该页面</h1><p>这个二维码或链接不正确，或号码已过期。</p>"
            "<p>请以取号机打印的小票为准，或询问大厅工作人员。</p></div>\n</main>\n</body>\n</html>\n")


def ticket_page(token: str, state: dict) -> str:
    data = json.dumps(dict(state, token=token), ensure_ascii=False).replace("<", "\\u003c")
    number = escape(state.get("number", ""))
    hall = escape(state.get("hall", ""))
    rules = "".join(f"<li>{escape(r)}</li>" for r in RULES)
    return (_head(f"{state.get('number', '排队进度')} · {state.get('hall', '')}")
            + "<body class=\"ph\">\n"
            f"<header class=\"ph-bar\"><span id=\"hall\">{hall}</span><span class=\"ph-live\" id=\"live\">连接中</span>"
            "</header>\n"
            "<div class=\"ph-banner\" id=\"banner\" role=\"alert\" hidden></div>\n"
            "<main class=\"ph-main\">\n"
            "<section class=\"ph-card ph-ticket\">\n"
            "<div class=\"ph-label\">您的号码</div>\n"
            f"<div class=\"ph-number\" id=\"number\">{number or '…'}</div>\n"
            f"<div class=\"ph-service\" id=\"service\">{escape(state.get('service_name', ''))}</div>\n"
            f"<div class=\"ph-status\" id=\"status\" data-state=\"{escape(state['state'])}\">"
            f"{escape(state.get('status_text', ''))}</div>\n"
            "<dl class=\"ph-facts\" id=\"facts\"></dl>\n"
            "<p class=\"ph-note\" id=\"note\" hidden></p>\n"
            "</section>\n"
            "<section class=\"ph-card\"><h2>正在叫号</h2><ul class=\"ph-calling\" id=\"calling\"></ul></section>\n"
            f"<section class=\"ph-card ph-rules\"><h2>过号与重新取号</h2><ul>{rules}</ul></section>\n"
            "<p class=\"ph-foot\" id=\"updated\"></p>\n"
            "</main>\n"
            f"<script type=\"application/json\" id=\"state\">{data}</script>\n"
            "<script src=\"/static/phone.js\"></script>\n"
            "</body>\n</html>\n")


def _list(items, ordered: bool = False) -> str:
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{escape(i)}</li>" for i in items) + f"</{tag}>"


def guide_page(guide: Guide, hall: Hall, category: str) -> str:
    window = hall.window(guide.window)
    window_text = f"{guide.window} 号窗口" + (f"（{window.name}）" if window and window.name else "")
    materials = []
    for n, m in enumerate(guide.materials, 1):
        detail = f"{m.form} {m.count} 份" + (f"；{m.notes}" if m.notes else "")
        materials.append(f"<li><label><input type=\"checkbox\" data-n=\"{n}\"><span class=\"ph-mat\">"
                         f"<b>{escape(m.name)}</b><small>{escape(detail)}</small></span></label></li>")
    facts = [("事项类型", guide.case_type), ("受理窗口", window_text), ("法定时限", guide.legal_limit),
             ("承诺时限", guide.promised_limit), ("收费标准", guide.fees), ("办理结果", guide.result)]
    facts_html = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts if v)
    phone = escape(guide.contact)
    digits = "".join(c for c in guide.contact if c.isdigit() or c == "-")
    sections = [
        f"<section class=\"ph-card ph-guide-head\"><div class=\"ph-label\">{escape(category)} · 办事指南</div>"
        f"<h1 id=\"guide-name\">{escape(guide.name)}</h1><dl class=\"ph-facts\">{facts_html}</dl>"
        f"<p class=\"ph-phone\">咨询电话：<a href=\"tel:{escape(digits)}\">{phone}</a></p></section>",
        f"<section class=\"ph-card\"><h2>申请材料（共 {len(guide.materials)} 项，备齐请打勾）</h2>"
        f"<ul class=\"ph-checklist\" id=\"materials\" data-guide=\"{escape(guide.id)}\">{''.join(materials)}</ul>"
        "<p class=\"ph-foot\" id=\"ticked\"></p></section>",
    ]
    if guide.conditions:
        sections.append(f"<section class=\"ph-card\"><h2>申请条件</h2>{_list(guide.conditions)}</section>")
    if guide.steps:
        sections.append(f"<section class=\"ph-card\"><h2>办理流程</h2>{_list(guide.steps, True)}</section>")
    if guide.notes:
        sections.append(f"<section class=\"ph-card\"><h2>注意事项</h2>{_list(guide.notes)}</section>")
    if guide.legal_basis:
        sections.append(f"<section class=\"ph-card ph-small\"><h2>法定依据</h2>{_list(guide.legal_basis)}</section>")
    return (_head(f"{guide.name} · 办事指南")
            + "<body class=\"ph\">\n"
            f"<header class=\"ph-bar\"><span>{escape(hall.name)}</span><span class=\"ph-live\">一次性告知</span></header>\n"
            "<main class=\"ph-main\">\n" + "\n".join(sections) + "\n</main>\n"
            "<script src=\"/static/guide.js\"></script>\n</body>\n</html>\n")
