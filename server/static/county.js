"use strict";
// 全县总览: one row per hall, live (polls /api/v1/county every few seconds), linking into each hall's pages.
(async () => {
  const { api, h, fill, toast } = Hall;
  const $ = (id) => document.getElementById(id);
  const who = await api("GET", "/auth/me");
  if (who.role !== "county-admin" && who.role !== "county-viewer") { location.href = "/login?denied=1"; return; }
  $("who").textContent = (who.display_name || who.name) + " · " + (who.role === "county-admin" ? "县级管理员" : "县级查看");
  $("logout").onclick = Hall.logout;
  const admin = who.role === "county-admin";
  const POLL_MS = 3000;
  const pct = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%");
  const time = (ts) => new Date(ts * 1000).toLocaleTimeString("zh-CN", { hour12: false });

  function links(code) {
    const q = "?hall=" + encodeURIComponent(code);
    const items = admin ? [["叫号", "/console"], ["管理", "/admin"], ["报表", "/reports"], ["评价", "/ratings"], ["回访", "/followups"]]
                        : [["报表", "/reports"], ["评价", "/ratings"], ["回访", "/followups"]];
    return h("div", { class: "county-links" }, items.map(([t, p]) => h("a", { class: "btn", href: p + q }, t)),
      h("a", { class: "btn", href: "/display" + q, target: "_blank" }, "显示屏"));
  }

  function row(s) {
    const services = s.services.filter(x => x.waiting > 0);
    return h("tr", { "data-hall": s.code },
      h("td", null, h("b", null, s.name), h("div", { class: "hint" }, s.code)),
      h("td", { class: "num" }, h("b", { class: "waiting" }, s.waiting)),
      h("td", null, services.length ? services.map(x => h("div", null, `${x.name} ${x.waiting}`))
                                    : h("span", { class: "hint" }, "无人等候")),
      h("td", null, s.calling.length ? s.calling.map(c => h("div", null, `${c.number}号窗 ${c.number_called}`))
                                     : h("span", { class: "hint" }, "—"),
        s.windows_paused ? h("div", { class: "warn" }, `暂停 ${s.windows_paused}`) : null),
      h("td", null, h("span", null, h("span", { class: "dot on" }), `在线 ${s.terminals_online}`),
        h("div", { class: s.terminals_offline ? "bad" : "hint" }, `离线 ${s.terminals_offline}`)),
      h("td", null, s.paper_warnings.length ? s.paper_warnings.map(p => h("div", { class: p.paper === "out" ? "bad" : "warn" },
        `${p.name} ${p.text}`)) : h("span", { class: "hint" }, "正常")),
      h("td", { class: "num" }, s.tickets_today),
      h("td", { class: "num" + (s.satisfaction_rate !== null && s.satisfaction_rate < 0.9 ? " bad" : "") },
        pct(s.satisfaction_rate), h("div", { class: "hint" }, `${s.rated_today} 条评价`)),
      h("td", null, links(s.code)));
  }

  // halls with their own hall server: what they pushed (today's ratings) and when they last reported
  const when = (ts) => ts ? new Date(ts * 1000).toLocaleString("zh-CN", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }) : "—";
  function linkedRow(l) {
    const dash = () => h("span", { class: "hint" }, "—");  // a new node each time: a node sits in one place
    return h("tr", { "data-hall": l.code, class: "linked" },
      h("td", null, h("b", null, l.name), h("div", { class: "hint" }, `${l.code} · 自建服务器上报`)),
      h("td", { class: "num" }, dash()), h("td", null, dash()), h("td", null, dash()), h("td", null, dash()),
      h("td", null, dash()), h("td", { class: "num" }, dash()),
      h("td", { class: "num" + (l.satisfaction_rate !== null && l.satisfaction_rate < 0.9 ? " bad" : "") },
        pct(l.satisfaction_rate), h("div", { class: "hint" }, `${l.rated_today} 条评价`)),
      h("td", null, h("div", null, "最近日报 ", h("b", null, l.last_report_day || "未上报")),
        h("div", { class: "hint" }, `日报收到 ${when(l.last_report_at)} · 最近推送 ${when(l.last_push_at)}`)));
  }

  const heads = ["中心", "等候", "各业务等候", "正在叫号", "终端", "打印纸", "今日取号", "今日满意率", "进入"];
  async function load() {
    let data, linked;
    try { [data, linked] = await Promise.all([api("GET", "/county"), api("GET", "/county/linked-halls")]); }
    catch (err) { $("link").textContent = "连接中断"; $("link").className = "link-state down"; return; }
    $("link").textContent = "实时"; $("link").className = "link-state";
    $("updated").textContent = "更新于 " + time(data.at);
    fill($("halls"), h("table", { id: "county" },
      h("thead", null, h("tr", null, heads.map((t, i) => h("th", { class: i === 1 || i === 6 || i === 7 ? "num" : "" }, t)))),
      h("tbody", null, data.halls.map(row), linked.map(linkedRow))));
  }
  await load();
  setInterval(load, POLL_MS);
})();
