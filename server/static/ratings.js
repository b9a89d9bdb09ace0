"use strict";
// 评价统计: satisfaction per day, window, staff and service; bad ratings and their reasons; CSV.
(async () => {
  const { api, h, fill, toast } = Hall;
  const $ = (id) => document.getElementById(id);
  const who = await Hall.me(["supervisor", "admin", "county-viewer"]);
  $("who").textContent = (who.display_name || who.name) + " · " + Hall.roleName(who.role);
  $("logout").onclick = Hall.logout;

  const LEVELS = [["5", "非常满意"], ["4", "满意"], ["3", "基本满意"], ["2", "不满意"], ["1", "非常不满意"]];
  const pct = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%");
  const iso = (d) => d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  const daysAgo = (n) => { const d = new Date(); d.setDate(d.getDate() - n); return iso(d); };

  function table(headers, rows) {
    return h("table", null, h("thead", null, h("tr", null, headers.map(([t, cls]) => h("th", { class: cls }, t)))),
      h("tbody", null, rows.length ? rows : [h("tr", null, h("td", { colspan: headers.length, class: "hint" }, "暂无评价"))]));
  }
  function rateCell(r) {
    if (r.satisfaction_rate === null) return h("td", { class: "num hint" }, "—");
    const low = r.satisfaction_rate < 0.9;
    return h("td", { class: "num" + (low ? " bad" : "") }, pct(r.satisfaction_rate));
  }
  const statHeads = [["名称"], ...LEVELS.map(([, n]) => [n, "num"]), ["已评价", "num"], ["未评价", "num"], ["差评", "num"], ["满意率", "num"]];
  const statRows = (list, skipEmpty) => list.filter(r => !skipEmpty || r.total || r.unrated).map(r => h("tr", null,
    h("td", null, r.name), ...LEVELS.map(([k]) => h("td", { class: "num" }, r.levels[k])),
    h("td", { class: "num" }, r.total), h("td", { class: "num" }, r.unrated),
    h("td", { class: "num" + (r.bad ? " bad" : "") }, r.bad), rateCell(r)));

  // ------------------------------------------------------------ filters
  const params = new URLSearchParams(location.search);
  $("from").value = params.get("from") || daysAgo(29);
  $("to").value = params.get("to") || Hall.today();
  const [windows, services] = await Promise.all([api("GET", "/windows"), api("GET", "/services")]);
  const users = await api("GET", "/users").catch(() => []);
  $("window").append(...windows.map(w => h("option", { value: w.number }, `${w.number}号 ${w.name}`)));
  $("service").append(...services.map(s => h("option", { value: s.code }, s.name)));
  $("staff").append(...users.filter(u => u.role === "window").map(u => h("option", { value: u.username }, `${u.display_name}${u.staff_no ? " (" + u.staff_no + ")" : ""}`)));
  for (const k of ["window", "staff", "service"]) if (params.get(k)) $(k).value = params.get(k);

  function query() {
    const q = new URLSearchParams({ from: $("from").value, to: $("to").value });
    for (const k of ["window", "staff", "service"]) if ($(k).value) q.set(k, $(k).value);
    return q.toString();
  }
  function pageQuery() {
    const q = new URLSearchParams(query());
    if (Hall.hallCode) q.set("hall", Hall.hallCode);
    return q.toString();
  }

  const STATE = { open: "待整改", rectified: "待回访", called_back: "已回访", rejected: "核实不属实" };
  function followupCell(r) {
    const link = h("a", { href: "/followups" + (Hall.hallCode ? "?hall=" + encodeURIComponent(Hall.hallCode) : "") + "#" + r.followup_id }, STATE[r.followup_state] || "查看");
    if (r.overdue) return h("span", null, link, " ", h("b", { class: "due overdue" }, "已逾期"));
    if (r.verdict === "confirmed") return h("span", null, link, h("span", { class: "hint" }, "（已核实）"));
    return link;
  }

  // --------------------------------------------------------------- load
  async function load() {
    if (!$("from").value || !$("to").value) return;
    const q = query();
    history.replaceState(null, "", "/ratings?" + pageQuery());  // keeps a county user's ?hall=
    $("csv").href = Hall.url("/stats/ratings.csv?") + q;
    $("export").href = Hall.url("/ratings/export?format=csv&from=") + $("from").value + "&to=" + $("to").value;
    let s, bad;
    try {
      [s, bad] = await Promise.all([api("GET", "/stats/ratings?" + q), api("GET", "/ratings?bad=true&limit=200&" + q)]);
    } catch (err) { toast(`${err.field ? err.field + ": " : ""}${err.message}`, true); return; }

    fill($("summary"),
      h("div", { class: "tile big" + (s.satisfaction_rate !== null && s.satisfaction_rate < 0.9 ? " low" : "") },
        h("b", { id: "rate" }, pct(s.satisfaction_rate)), h("span", null, "满意率")),
      h("div", { class: "tile" }, h("b", null, s.total), h("span", null, "已评价")),
      h("div", { class: "tile" }, h("b", { class: s.bad ? "bad" : "" }, s.bad), h("span", null, "差评")),
      h("div", { class: "tile" }, h("b", null, s.unrated), h("span", null, "未评价")),
      LEVELS.map(([k, n]) => h("div", { class: "tile lv lv" + k }, h("b", null, s.levels[k]), h("span", null, n))));

    const winRows = s.by_window;
    drawBars($("chart-window"), winRows.map(r => r.name), [
      { name: "满意率 %", color: "#1d4f91", values: winRows.map(r => r.satisfaction_rate === null ? null : Math.round(r.satisfaction_rate * 1000) / 10) }],
      { max: 100, suffix: "%" });
    const days = s.by_day.slice(-62);
    drawBars($("chart-day"), days.map(r => r.key.slice(5)), [
      { name: "满意", color: "#1f7a3d", values: days.map(r => r.satisfied) },
      { name: "差评", color: "#b3261e", values: days.map(r => r.bad) },
      { name: "未评价", color: "#8a94a3", values: days.map(r => r.unrated) }],
      { every: Math.max(1, Math.ceil(days.length / 16)) });

    const most = Math.max(1, ...s.reasons.map(r => r.count));
    fill($("reasons"), s.reasons.length
      ? s.reasons.map(r => {
          const bar = h("span", { class: "rbar" });
          bar.style.width = (100 * r.count / most) + "%";  // CSSOM, which the CSP allows (no style attribute)
          return h("div", { class: "rrow" }, h("span", { class: "rname" }, r.name), h("span", { class: "rtrack" }, bar), h("b", null, r.count));
        })
      : h("p", { class: "hint" }, "所选期间没有差评"));
    fill($("bad"), table([["时间"], ["评价"], ["原因"], ["窗口"], ["人员"], ["业务"], ["号码"], ["回访电话"], ["整改回访"]],
      bad.map(r => h("tr", { class: r.overdue ? "overdue-row" : (r.verdict === "rejected" ? "rejected-row" : "") },
        h("td", null, `${r.day.slice(5)} ${Hall.clock(r.created_at)}`),
        h("td", null, h("span", { class: "lvtag lv" + r.level }, r.level_name)),
        h("td", null, r.reason_names.join("、")),
        h("td", null, `${r.window}号 ${r.window_name}`), h("td", null, r.staff_name || "—"),
        h("td", null, r.service_name || "—"), h("td", null, r.ticket_number || (r.walk_in ? "窗口评价" : "—")),
        h("td", null, r.phone || "—"),
        h("td", null, r.followup_id ? followupCell(r) : "—")))));
    $("note").textContent = s.rejected ? s.note : "";
    fill($("by-window"), table(statHeads, statRows(s.by_window)));
    fill($("by-staff"), table(statHeads, statRows(s.by_staff)));
    fill($("by-service"), table(statHeads, statRows(s.by_service)));
    fill($("by-day"), table(statHeads, statRows([...s.by_day].reverse(), true)));
  }

  for (const id of ["from", "to", "window", "staff", "service"]) $(id).onchange = load;
  $("filters").onsubmit = (e) => { e.preventDefault(); load(); };
  document.querySelectorAll("[data-range]").forEach(b => b.onclick = () => {
    const r = b.dataset.range, now = new Date();
    $("to").value = Hall.today();
    if (r === "today") $("from").value = Hall.today();
    else if (r === "month") $("from").value = iso(new Date(now.getFullYear(), now.getMonth(), 1));
    else $("from").value = daysAgo(Number(r) - 1);
    load();
  });
  await load();
  const later = Hall.debounce(() => load().catch(() => {}), 1500);
  Hall.events((kind) => { if (kind === "rating_recorded" || kind === "config_changed") later(); },
    (up) => { $("link").textContent = up ? "实时" : "连接中断"; $("link").className = "link-state" + (up ? "" : " down"); });
})();
