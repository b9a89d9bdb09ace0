"use strict";
// 全县总览 → 日报: every hall's daily report for a day, and which halls have not reported (GET /reports/daily/halls).
(async () => {
  const { api, h, fill } = Hall;
  const $ = (id) => document.getElementById(id);
  const pct = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%");
  const yesterday = () => { const d = new Date(Hall.today() + "T00:00:00"); d.setDate(d.getDate() - 1);
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0"); };
  $("daily-day").value = yesterday();  // the county reads yesterday's reports in the morning

  let asked = 0;  // the latest load: an earlier day's answer that comes in after it is dropped
  async function load() {
    const day = $("daily-day").value;
    if (!day) return;
    const mine = ++asked;
    let list;
    try { list = await api("GET", "/reports/daily/halls?date=" + day); }
    catch (err) { if (mine === asked) fill($("daily-list"), h("span", { class: "bad" }, err.message)); return; }
    if (mine !== asked) return;
    const missing = list.filter(x => !x.reported);
    fill($("daily-missing"), missing.length
      ? h("span", { class: "warn" }, `${missing.length} 个中心尚未上报：${missing.map(x => x.hall_name).join("、")}`)
      : h("span", { class: "hint" }, "全部中心已上报"));
    fill($("daily-list"), h("table", null,
      h("thead", null, h("tr", null, ["中心", "日报", "冻结时间", "更正", "办结", "满意率", ""].map((t, i) =>
        h("th", { class: i >= 3 && i <= 5 ? "num" : null }, t)))),
      h("tbody", null, list.map(x => h("tr", { "data-daily-hall": x.hall, class: x.reported ? "" : "unreported" },
        h("td", null, x.hall_name), h("td", { class: x.reported ? "" : "warn" }, x.reported ? "已上报" : "未上报"),
        h("td", null, x.frozen_at ? Hall.clock(x.frozen_at) : "—"), h("td", { class: "num" }, x.correction || 0),
        h("td", { class: "num" }, x.served === null ? "—" : x.served),
        h("td", { class: "num" + (x.satisfaction_rate !== null && x.satisfaction_rate < 0.9 ? " bad" : "") }, pct(x.satisfaction_rate)),
        h("td", null, h("a", { class: "btn", href: `/reports?of=${encodeURIComponent(x.hall)}&from=${day}&to=${day}` }, "查看")))))));
  }
  $("daily-day").onchange = load;
  load();
})();
