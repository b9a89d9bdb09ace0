"use strict";
// 统计报表: period statistics of a hall (day, week, month, year or any range) with charts, and its 日报.
(async () => {
  const { api, h, fill, toast, minutes } = Hall;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  if (params.has("hall")) {  // ?hall= would send every call to /api/v1/halls/CODE/... (common.js): name it in ?of=
    params.set("of", params.get("hall"));
    params.delete("hall");
    location.replace("/reports?" + params);
    return;
  }
  // county users stay here (a county-wide page), so no role list for Hall.me (it would send them to /county)
  const who = await Hall.me();
  if (!["supervisor", "admin", "county-admin", "county-viewer"].includes(who.role)) {
    location.href = "/login?denied=1";
    return;
  }
  $("who").textContent = (who.display_name || who.name) + " · " + ({ admin: "管理员", supervisor: "主管",
    "county-admin": "县级管理员", "county-viewer": "县级查看" }[who.role] || who.role);
  $("logout").onclick = Hall.logout;
  if (who.role.startsWith("county-")) {  // a county user's way back is the county overview, not one hall's pages
    $("home-link").href = "/county";
    $("home-link").textContent = "全县总览";
    $("tabs").hidden = true;
  }

  const pct = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%");
  const num = (x) => (x === null || x === undefined ? "—" : String(x));
  const hours = (s) => (s === null || s === undefined ? "—" : (s / 3600).toFixed(1) + " 小时");
  const canFreeze = ["supervisor", "admin", "county-admin"].includes(who.role);

  // halls: the county's list when the server has one, else the caller's own hall (the report says which)
  const halls = await api("GET", "/halls").catch(() => null);
  if (halls && halls.length) {
    $("hall").append(...halls.map(x => h("option", { value: x.code }, x.name)));
    if (halls.length > 1) $("hall").append(h("option", { value: "all" }, "全县合计"));
  }
  if (params.get("of")) $("hall").value = params.get("of");

  function range(period) {
    const t = Hall.today(), d = new Date(t + "T00:00:00");
    const iso = (x) => x.getFullYear() + "-" + String(x.getMonth() + 1).padStart(2, "0") + "-" + String(x.getDate()).padStart(2, "0");
    if (period === "day") return [t, t];
    if (period === "week") { const s = new Date(d); s.setDate(d.getDate() - ((d.getDay() + 6) % 7)); const e = new Date(s); e.setDate(s.getDate() + 6); return [iso(s), iso(e)]; }
    if (period === "month") return [t.slice(0, 8) + "01", iso(new Date(d.getFullYear(), d.getMonth() + 1, 0))];
    return [t.slice(0, 4) + "-01-01", t.slice(0, 4) + "-12-31"];
  }
  const [f0, t0] = range("month");
  $("from").value = params.get("from") || f0;
  $("to").value = params.get("to") || t0;

  function query() {
    const q = new URLSearchParams({ from: $("from").value, to: $("to").value });
    if ($("hall").value) q.set("hall", $("hall").value);
    return q;
  }
  function pageQuery(q) {  // the page's own address names the hall in ?of=
    const p = new URLSearchParams(q);
    if (p.has("hall")) { p.set("of", p.get("hall")); p.delete("hall"); }
    return p;
  }

  const HEADS = [["名称"], ["取号", "num"], ["办结", "num"], ["过号", "num"], ["取消", "num"], ["转出", "num"],
    ["平均等候", "num"], ["P90等候", "num"], ["平均办理", "num"], ["已评价", "num"], ["未评价", "num"], ["差评", "num"],
    ["评议率", "num"], ["满意率", "num"], ["待整改", "num"], ["逾期", "num"]];
  const STAFF_HEADS = [["姓名"], ["工号"], ["叫号", "num"], ["办结", "num"], ["办理时长", "num"], ["暂停时长", "num"],
    ["平均等候", "num"], ["平均办理", "num"], ["已评价", "num"], ["差评", "num"], ["评议率", "num"], ["满意率", "num"]];
  function table(heads, rows) {
    return h("table", null, h("thead", null, h("tr", null, heads.map(([t, c]) => h("th", { class: c }, t)))),
      h("tbody", null, rows.length ? rows : [h("tr", null, h("td", { colspan: heads.length, class: "hint" }, "暂无数据"))]));
  }
  const rateTd = (x) => h("td", { class: "num" + (x !== null && x < 0.9 ? " bad" : "") }, pct(x));
  const row = (r) => h("tr", null, h("td", null, r.name), h("td", { class: "num" }, num(r.issued)),
    h("td", { class: "num" }, r.served), h("td", { class: "num" }, r.no_show), h("td", { class: "num" }, r.cancelled),
    h("td", { class: "num" }, r.transferred), h("td", { class: "num" }, minutes(r.mean_wait_s)),
    h("td", { class: "num" }, minutes(r.p90_wait_s)), h("td", { class: "num" }, minutes(r.mean_service_s)),
    h("td", { class: "num" }, r.rated), h("td", { class: "num" }, r.unrated),
    h("td", { class: "num" + (r.bad ? " bad" : "") }, r.bad), h("td", { class: "num" }, pct(r.rating_rate)),
    rateTd(r.satisfaction_rate), h("td", { class: "num" }, r.followups.open || 0),
    h("td", { class: "num" + (r.followups.overdue ? " bad" : "") }, r.followups.overdue || 0));
  const staffRow = (r) => h("tr", null, h("td", null, r.name), h("td", null, r.staff_no || "—"),
    h("td", { class: "num" }, r.served + r.no_show + r.transferred + r.open), h("td", { class: "num" }, r.served),
    h("td", { class: "num" }, hours(r.serving_s)), h("td", { class: "num" }, hours(r.paused_s)),
    h("td", { class: "num" }, minutes(r.mean_wait_s)), h("td", { class: "num" }, minutes(r.mean_service_s)),
    h("td", { class: "num" }, r.rated), h("td", { class: "num" + (r.bad ? " bad" : "") }, r.bad),
    h("td", { class: "num" }, pct(r.rating_rate)), rateTd(r.satisfaction_rate));

  async function loadDaily() {
    const hall = $("hall").value && $("hall").value !== "all" ? $("hall").value : null;
    const q = new URLSearchParams({ date: $("to").value > Hall.today() ? Hall.today() : $("to").value });
    if (hall) q.set("hall", hall);
    $("daily-date").textContent = q.get("date");
    loadHalls(q.get("date"));  // both boxes follow the same day
    if ($("hall").value === "all") { fill($("daily"), h("span", { class: "hint" }, "日报按大厅查看：请选择一个大厅")); return; }
    let d;
    try { d = await api("GET", "/reports/daily?" + q); } catch (err) { fill($("daily"), h("span", { class: "bad" }, err.message)); return; }
    const t = d.report.total;
    const state = d.provisional ? h("span", { class: "daily-state provisional", id: "daily-state" }, "临时数据（未冻结）")
      : h("span", { class: "daily-state frozen", id: "daily-state" },
          `已冻结 ${Hall.clock(d.frozen_at)}` + (d.correction ? `，更正 ${d.correction} 次` : ""));
    fill($("daily"), state,
      h("span", null, `取号 ${t.issued} · 办结 ${t.served} · 过号 ${t.no_show} · 评议率 ${pct(t.rating_rate)} · 满意率 ${pct(t.satisfaction_rate)} · 差评 ${t.bad}`),
      d.corrections.length ? h("span", { class: "hint" }, d.corrections.map(c => `更正${c.number}：${c.reason}`).join("；")) : null,
      h("a", { class: "btn", href: "/api/v1/reports/daily.csv?" + q, download: "" }, "日报 CSV"),
      d.provisional && canFreeze ? h("button", { class: "btn main", type: "button", onclick: async () => {
        try { await api("POST", "/reports/daily/freeze?" + q); toast("日报已冻结"); loadDaily(); }
        catch (err) { toast(err.message, true); }
      } }, "立即冻结日报") : null);
  }

  // every hall the caller may see, for the day of the 日报 box: who has reported, who has not
  async function loadHalls(day) {
    $("halls-date").textContent = day;
    let list;
    try { list = await api("GET", "/reports/daily/halls?date=" + day); } catch (err) { fill($("daily-halls"), h("span", { class: "bad" }, err.message)); return; }
    const missing = list.filter(x => !x.reported).length;
    fill($("daily-halls"), h("p", { class: missing ? "warn" : "hint", id: "halls-missing" },
      missing ? `${missing} 个大厅尚未上报` : "全部大厅已上报"),
      table([["大厅"], ["状态"], ["冻结时间"], ["更正", "num"], ["办结", "num"], ["满意率", "num"]], list.map(x => h("tr", { class: x.reported ? "" : "unreported" },
        h("td", null, x.hall_name, x.linked ? h("span", { class: "hint" }, "（自建服务器上报）") : null), h("td", { class: x.reported ? "" : "warn" }, x.reported ? "已上报" : "未上报"),
        h("td", null, x.frozen_at ? Hall.clock(x.frozen_at) : "—"), h("td", { class: "num" }, x.correction || 0),
        h("td", { class: "num" }, num(x.served)), rateTd(x.satisfaction_rate)))));
  }

  async function load() {
    if (!$("from").value || !$("to").value) return;
    const q = query();
    history.replaceState(null, "", "/reports?" + pageQuery(q));
    $("csv").href = "/api/v1/reports/period.csv?" + q;
    let r;
    try { r = await api("GET", "/reports/period?" + q); }
    catch (err) { toast(`${err.field ? err.field + ": " : ""}${err.message}`, true); return; }
    if (!$("hall").options.length) {
      $("hall").append(...r.halls.map(c => h("option", { value: c }, r.hall_names[c])));
    }
    const t = r.total;
    fill($("summary"),
      h("div", { class: "tile" }, h("b", { id: "issued" }, t.issued), h("span", null, "取号")),
      h("div", { class: "tile" }, h("b", { id: "served" }, t.served), h("span", null, "办结")),
      h("div", { class: "tile" }, h("b", null, t.no_show), h("span", null, "过号")),
      h("div", { class: "tile" }, h("b", null, t.transferred), h("span", null, "转出")),
      h("div", { class: "tile" }, h("b", null, minutes(t.mean_wait_s)), h("span", null, "平均等候")),
      h("div", { class: "tile" }, h("b", null, minutes(t.p90_wait_s)), h("span", null, "P90 等候")),
      h("div", { class: "tile" }, h("b", null, minutes(t.mean_service_s)), h("span", null, "平均办理")),
      h("div", { class: "tile big" }, h("b", { id: "rating-rate" }, pct(t.rating_rate)), h("span", null, "评议率")),
      h("div", { class: "tile big" + (t.satisfaction_rate !== null && t.satisfaction_rate < 0.9 ? " low" : "") },
        h("b", { id: "satisfaction-rate" }, pct(t.satisfaction_rate)), h("span", null, "满意率")),
      h("div", { class: "tile" }, h("b", { class: t.bad ? "bad" : "" }, t.bad), h("span", null, "差评")),
      h("div", { class: "tile" }, h("b", { class: t.followups.overdue ? "bad" : "" }, t.followups.overdue || 0), h("span", null, "逾期未回访")));

    const days = r.by_day;
    const labels = days.map(d => d.key.slice(5));
    SvgChart.lines($("chart-days"), labels, [
      { name: "取号", color: "#1d4f91", values: days.map(d => d.issued) },
      { name: "办结", color: "#1f7a3d", values: days.map(d => d.served) },
      { name: "过号", color: "#b3261e", values: days.map(d => d.no_show) }]);
    SvgChart.lines($("chart-rates"), labels, [
      { name: "满意率", color: "#1f7a3d", values: days.map(d => d.satisfaction_rate === null ? null : Math.round(d.satisfaction_rate * 1000) / 10) },
      { name: "评议率", color: "#1d4f91", values: days.map(d => d.rating_rate === null ? null : Math.min(100, Math.round(d.rating_rate * 1000) / 10)) }],
      { max: 100, suffix: "%", width: 600 });
    SvgChart.bars($("chart-windows"), r.by_window.map(w => w.name), [
      { name: "办结", color: "#1f7a3d", values: r.by_window.map(w => w.served) },
      { name: "差评", color: "#b3261e", values: r.by_window.map(w => w.bad) }], { width: 600 });

    fill($("by-window"), table(HEADS, r.by_window.map(row)));
    fill($("by-staff"), table(STAFF_HEADS, r.by_staff.map(staffRow)));
    fill($("by-service"), table(HEADS, r.by_service.map(row)));
    fill($("by-day"), table(HEADS, days.filter(d => d.issued || d.served || d.rated).map(row)));
    fill($("definitions"), Object.values(r.definitions).map(d => h("li", null, d)));
    loadDaily();
  }

  for (const b of document.querySelectorAll("[data-period]")) {
    b.onclick = () => { const [a, z] = range(b.dataset.period); $("from").value = a; $("to").value = z; load(); };
  }
  for (const id of ["from", "to", "hall"]) $(id).onchange = load;
  load();
})();
