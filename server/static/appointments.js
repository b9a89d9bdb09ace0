"use strict";
// 预约管理: book, move and cancel appointments, import a day's CSV, read the statistics.
(async () => {
  const { api, h, fill, toast } = Hall;
  const $ = (id) => document.getElementById(id);
  const who = await Hall.me(["window", "supervisor", "admin"]);
  $("who").textContent = who.display_name || who.name;
  $("logout").onclick = Hall.logout;
  const STATUS = { booked: "待签到", cancelled: "已取消", checked_in: "已签到" };
  const say = (err) => toast(`${err.field ? err.field + ": " : ""}${err.message}`, true);

  const settings = await api("GET", "/appointments/settings");
  const allServices = await api("GET", "/services");  // fetched once: the settings card below uses them too
  const services = allServices.filter(s => settings.services.some(x => x.service === s.code));
  fill($("service"), services.map(s => h("option", { value: s.code }, s.name)));
  $("day").value = Hall.today();
  if (!services.length) toast("还没有开放预约的业务：请主管在预约设置中添加", true);

  async function loadSlots() {
    if (!$("service").value) return;
    try {
      const slots = await api("GET", `/appointments/slots?service=${encodeURIComponent($("service").value)}&day=${$("day").value}`);
      fill($("slot"), slots.map(s => h("option", { value: s.slot, disabled: s.free === 0 || s.ended },
        s.ended ? `${s.slot}（已过）` : `${s.slot}（余 ${s.free}/${s.capacity}）`)));
      $("slots-hint").textContent = slots.length ? "" : "该日不开放预约";
    } catch (err) { fill($("slot")); say(err); }
  }

  async function loadList() {
    const rows = await api("GET", `/appointments?day=${$("day").value}`);
    if (!rows.length) { fill($("list"), h("p", { class: "hint" }, "这一天还没有预约")); return; }
    fill($("list"), h("table", null,
      h("thead", null, h("tr", null, ["时段", "业务", "姓名", "手机号", "签到码", "状态", "来源", ""].map(t => h("th", null, t)))),
      h("tbody", null, rows.map(r => h("tr", null,
        h("td", null, r.slot), h("td", null, r.service_name), h("td", null, r.name_masked || "—"),
        h("td", null, r.phone || "—"), h("td", null, h("b", null, r.code)),
        h("td", null, STATUS[r.status] + (r.late ? "（迟到）" : "") + (r.ticket_number ? ` ${r.ticket_number}` : "")),
        h("td", null, r.source === "csv" ? "导入" : "登记"),
        h("td", null, r.status === "booked" ? [
          h("button", { class: "btn", type: "button", onclick: () => move(r) }, "改期"),
          " ",
          h("button", { class: "btn", type: "button", onclick: () => cancel(r) }, "取消"),
        ] : null))))));
  }

  async function move(r) {
    const slot = prompt(`把 ${r.name_masked || r.code} 的预约改到哪个时段？（如 14:00-14:30）`, r.slot);
    if (!slot) return;
    const day = prompt("日期（YYYY-MM-DD）", r.day);
    if (!day) return;
    try {
      const m = await api("PATCH", `/appointments/${r.id}`, { slot, day });
      toast(`已改到 ${m.day} ${m.slot}，签到码 ${m.code}`);
      await refresh();
    } catch (err) { say(err); }
  }

  async function cancel(r) {
    if (!confirm(`取消 ${r.slot} ${r.name_masked || r.code} 的预约？`)) return;
    try { await api("POST", `/appointments/${r.id}/cancel`); toast("已取消"); await refresh(); } catch (err) { say(err); }
  }

  async function refresh() { await Promise.all([loadSlots(), loadList(), loadStats()]); }

  $("book").onsubmit = async (e) => {
    e.preventDefault();
    try {
      const a = await api("POST", "/appointments", { service: $("service").value, day: $("day").value, slot: $("slot").value,
        name: $("name").value.trim(), phone: $("phone").value.trim(), id_number: $("idnum").value.trim() });
      fill($("made"), h("p", null, `已预约 ${a.day} ${a.slot} ${a.service_name}，签到码 `, h("span", { class: "code-box" }, a.code)));
      $("name").value = $("phone").value = $("idnum").value = "";
      await refresh();
    } catch (err) { say(err); await loadSlots(); }
  };

  $("import").onsubmit = async (e) => {
    e.preventDefault();
    const file = $("csv").files[0];
    if (!file) return;
    fill($("import-errors"));
    const q = $("only-day").checked ? `?day=${$("day").value}` : "";
    const r = await fetch(Hall.url(`/appointments/import${q}`), { method: "POST", credentials: "same-origin", body: file,
      headers: { "Content-Type": "text/csv", "X-CSRF-Token": who.csrf } });
    const data = await r.json().catch(() => ({ message: "HTTP " + r.status }));
    if (!r.ok) {
      toast(data.message, true);
      fill($("import-errors"), (data.errors || []).map(x => h("li", null, x.text || `${x.field}: ${x.message}`)));
      return;
    }
    toast(`已导入 ${data.imported} 条预约`);
    await refresh();
  };

  async function loadStats() {
    if (!["supervisor", "admin"].includes(who.role)) return;
    $("stats-card").hidden = false;
    const rows = await api("GET", "/appointments/stats");
    fill($("stats"), rows.length ? h("table", null,
      h("thead", null, h("tr", null, ["日期", "业务", "预约", "按时签到", "迟到", "爽约", "未到时", "取消"].map((t, i) => h("th", i > 1 ? { class: "num" } : null, t)))),
      h("tbody", null, rows.map(r => h("tr", null, h("td", null, r.day), h("td", null, r.service_name),
        [r.booked, r.checked_in, r.late, r.no_show, r.pending, r.cancelled].map(n => h("td", { class: "num" }, n))))))
      : h("p", { class: "hint" }, "近 30 天没有预约"));
  }

  async function loadSettings() {
    if (!["supervisor", "admin"].includes(who.role)) return;
    $("settings-card").hidden = false;
    const s = settings, all = allServices;  // already fetched at the top (a page fetches each thing once)
    $("before").value = s.before_min; $("after").value = s.after_min; $("elderly").value = s.elderly_age;
    $("one-ticket").checked = s.one_ticket_per_person;
    const conf = Object.fromEntries(s.services.map(x => [x.service, x]));
    fill($("service-slots"), h("table", null,
      h("thead", null, h("tr", null, ["业务", "开放预约", "每时段分钟数", "每时段名额"].map(t => h("th", null, t)))),
      h("tbody", null, all.map(svc => h("tr", { "data-service": svc.code }, h("td", null, svc.name),
        h("td", null, h("input", { type: "checkbox", class: "open", checked: Boolean(conf[svc.code]), "aria-label": svc.name + " 开放预约" })),
        h("td", null, h("input", { type: "number", class: "minutes narrow", min: 5, max: 240, value: conf[svc.code] ? conf[svc.code].slot_minutes : 30 })),
        h("td", null, h("input", { type: "number", class: "capacity narrow", min: 1, max: 500, value: conf[svc.code] ? conf[svc.code].capacity : 4 })))))));
    $("mode").value = s.mode; $("max-in-a-row").value = s.max_in_a_row;
    $("settings").onsubmit = async (e) => {
      e.preventDefault();
      const services = [...document.querySelectorAll("#service-slots tr[data-service]")]
        .filter(tr => tr.querySelector(".open").checked)
        .map(tr => ({ service: tr.dataset.service, slot_minutes: Number(tr.querySelector(".minutes").value),
                      capacity: Number(tr.querySelector(".capacity").value) }));
      try {
        await api("PUT", "/appointments/settings", { before_min: Number($("before").value), after_min: Number($("after").value),
          mode: $("mode").value, max_in_a_row: Number($("max-in-a-row").value), elderly_age: Number($("elderly").value),
          one_ticket_per_person: $("one-ticket").checked, services });
        toast("预约设置已保存");
        location.reload();
      } catch (err) { say(err); }
    };
  }

  $("day").onchange = refresh;
  $("service").onchange = loadSlots;
  await refresh();
  await loadSettings();
})();
