"use strict";
// Supervisor pages: statistics, services, windows, staff, terminals.
(async () => {
  const { api, h, fill, toast, minutes } = Hall;
  const $ = (id) => document.getElementById(id);
  const who = await Hall.me(["supervisor", "admin"]);
  $("who").textContent = (who.display_name || who.name) + " · " + Hall.roleName(who.role);
  $("logout").onclick = Hall.logout;
  const roleNames = { window: "窗口人员", supervisor: "主管", admin: "管理员" };

  function table(headers, rows) {
    return h("table", null, h("thead", null, h("tr", null, headers.map(([t, cls]) => h("th", { class: cls }, t)))),
      h("tbody", null, rows.length ? rows : [h("tr", null, h("td", { colspan: headers.length, class: "hint" }, "暂无"))]));
  }
  const formData = (form) => Object.fromEntries(new FormData(form).entries());
  const intOrNull = (v) => (v === "" || v === undefined ? null : Number(v));

  // --------------------------------------------------------------- stats
  $("stats-date").value = Hall.today();
  async function loadStats() {
    const day = $("stats-date").value || Hall.today();
    $("csv").href = Hall.url("/stats.csv?date=") + encodeURIComponent(day);
    const s = await api("GET", "/stats?date=" + encodeURIComponent(day));
    const heads = [["名称"], ["取号", "num"], ["办结", "num"], ["过号", "num"], ["等候中", "num"], ["平均等候", "num"], ["P90 等候", "num"], ["平均办理", "num"]];
    const rows = (list) => list.map(r => h("tr", null, h("td", null, r.name), h("td", { class: "num" }, r.tickets),
      h("td", { class: "num" }, r.served), h("td", { class: "num" }, r.no_show), h("td", { class: "num" }, r.waiting),
      h("td", { class: "num" }, minutes(r.mean_wait_s)), h("td", { class: "num" }, minutes(r.p90_wait_s)),
      h("td", { class: "num" }, minutes(r.mean_service_s))));
    fill($("stats-service"), table(heads, rows([...s.by_service, s.totals])));
    fill($("stats-window"), table(heads, rows(s.by_window)));
    fill($("stats-staff"), table(heads, rows(s.by_staff)));
    drawBars($("chart"), s.by_service.map(r => r.name), [
      { name: "取号", color: "#1d4f91", values: s.by_service.map(r => r.tickets) },
      { name: "办结", color: "#1f7a3d", values: s.by_service.map(r => r.served) },
      { name: "过号", color: "#c77700", values: s.by_service.map(r => r.no_show) }]);
  }
  $("stats-date").onchange = loadStats;

  // ------------------------------------------------------------ services
  let services = [], windows = [];
  async function loadServices() {
    [services, windows] = await Promise.all([api("GET", "/services"), api("GET", "/windows")]);
    fill($("services-table"), table([["代码"], ["名称"], ["前缀"], ["号段"], ["限号", "num"], ["办理时间"], ["窗口"], ["等候", "num"], ["状态"], [""]],
      services.map(s => h("tr", null, h("td", null, s.code), h("td", null, s.name), h("td", null, s.prefix),
        h("td", null, `${s.range_start}-${s.range_end}`), h("td", { class: "num" }, s.daily_cap ?? "不限"),
        h("td", null, s.hours || "全天"), h("td", null, s.windows.join(", ") || h("span", { class: "warn" }, "无窗口")),
        h("td", { class: "num" }, s.waiting),
        h("td", null, s.open ? "开放" : h("span", { class: "warn" }, s.closed_reason)),
        h("td", null, h("button", { class: "btn", type: "button", onclick: () => editService(s) }, "修改"))))));
    fill($("service-windows"), windows.map(w => h("label", null, h("input", { type: "checkbox", value: w.number }), `${w.number} 号`)));
    fill($("window-services"), services.map(s => h("label", null, h("input", { type: "checkbox", value: s.code }), s.name)));
    fill($("windows-table"), table([["窗口"], ["名称"], ["业务"], ["绿色通道"], ["状态"], ["当前号"], ["人员"], [""]],
      windows.map(w => h("tr", null, h("td", null, `${w.number} 号`), h("td", null, w.name),
        h("td", null, w.services.map(c => (services.find(s => s.code === c) || { name: c }).name).join("、")),
        h("td", null, w.green_channel ? "是" : "否"), h("td", null, w.paused ? h("span", { class: "warn" }, "暂停") : "叫号中"),
        h("td", null, w.current ? w.current.number : "—"), h("td", null, w.staff || "—"),
        h("td", null, h("button", { class: "btn", type: "button", onclick: () => editWindow(w) }, "修改"))))));
  }

  let editingService = null;
  function editService(s) {
    editingService = s.code;
    const f = $("service-form");
    $("service-form-title").textContent = `修改业务 ${s.name}`;
    for (const k of ["code", "name", "prefix", "range_start", "range_end", "hours", "description"]) f[k].value = s[k] ?? "";
    f.daily_cap.value = s.daily_cap ?? "";
    f.enabled.checked = s.enabled;
    f.code.readOnly = true;
    f.scrollIntoView({ behavior: "smooth" });
  }
  $("service-reset").onclick = () => { editingService = null; $("service-form").code.readOnly = false; $("service-form-title").textContent = "新增业务"; };
  $("service-form").onsubmit = async (e) => {
    e.preventDefault();
    const f = e.target, d = formData(f);
    const body = { code: d.code, name: d.name, prefix: d.prefix, range_start: Number(d.range_start || 1),
      range_end: Number(d.range_end || 999), daily_cap: intOrNull(d.daily_cap), hours: d.hours || "",
      average_minutes: d.average_minutes ? Number(d.average_minutes) : null, enabled: f.enabled.checked,
      description: d.description || "" };
    try {
      if (editingService) await api("PUT", "/services/" + encodeURIComponent(editingService), body);
      else await api("POST", "/services", { ...body, windows: [...$("service-windows").querySelectorAll("input:checked")].map(i => Number(i.value)) });
      toast("已保存，终端与显示屏即时生效");
      f.reset(); $("service-reset").onclick();
      await loadServices();
    } catch (err) { toast(`${err.field ? err.field + ": " : ""}${err.message}`, true); }
  };

  let editingWindow = null;
  function editWindow(w) {
    editingWindow = w.number;
    const f = $("window-form");
    $("window-form-title").textContent = `修改 ${w.number} 号窗口`;
    f.number.value = w.number; f.number.readOnly = true; f.name.value = w.name; f.green_channel.checked = w.green_channel;
    $("window-services").querySelectorAll("input").forEach(i => { i.checked = w.services.includes(i.value); });
    f.scrollIntoView({ behavior: "smooth" });
  }
  $("window-reset").onclick = () => { editingWindow = null; $("window-form").number.readOnly = false; $("window-form-title").textContent = "新增窗口"; };
  $("window-form").onsubmit = async (e) => {
    e.preventDefault();
    const f = e.target;
    const body = { number: Number(f.number.value), name: f.name.value, green_channel: f.green_channel.checked,
      services: [...$("window-services").querySelectorAll("input:checked")].map(i => i.value) };
    try {
      if (editingWindow) await api("PUT", "/windows/" + editingWindow, body);
      else await api("POST", "/windows", body);
      toast("已保存");
      f.reset(); $("window-reset").onclick();
      await loadServices();
    } catch (err) { toast(`${err.field ? err.field + ": " : ""}${err.message}`, true); }
  };

  // --------------------------------------------------------------- staff
  async function loadStaff() {
    const users = await api("GET", "/users");
    fill($("staff-table"), table([["用户名"], ["姓名"], ["工号"], ["角色"], ["常驻窗口"], ["状态"], [""]],
      users.map(u => h("tr", null, h("td", null, u.username), h("td", null, u.display_name), h("td", null, u.staff_no || "—"),
        h("td", null, roleNames[u.role]), h("td", null, u.window ?? "—"),
        h("td", null, u.active ? "在用" : h("span", { class: "warn" }, "停用")),
        h("td", { class: "row" },
          h("button", { class: "btn", type: "button", disabled: u.username === who.name, onclick: () => patchUser(u.username, { active: !u.active }) }, u.active ? "停用" : "启用"),
          h("button", { class: "btn", type: "button", onclick: () => resetPassword(u.username) }, "重置密码"),
          h("button", { class: "btn", type: "button", onclick: () => pickPhoto(u.username) }, "上传照片"))))));
  }
  // The photo the evaluator at the staff member's window shows (JPEG/PNG/WebP, at most 1 MB).
  function pickPhoto(username) {
    const input = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp" });
    input.onchange = async () => {
      const file = input.files[0];
      if (!file) return;
      try { await Hall.upload("PUT", "/users/" + encodeURIComponent(username) + "/photo", file); toast(`${username} 的照片已更新，评价器随即显示`); }
      catch (err) { toast(err.status === 413 ? "照片太大，请小于 1 MB" : err.status === 415 ? "请选择 JPG、PNG 或 WebP 图片" : err.message, true); }
    };
    input.click();
  }
  async function patchUser(username, body) {
    try { await api("PATCH", "/users/" + encodeURIComponent(username), body); toast("已更新"); await loadStaff(); }
    catch (err) { toast(err.message, true); }
  }
  function resetPassword(username) {
    const pw = prompt(`为 ${username} 设置新密码 (至少 8 位):`);
    if (pw) patchUser(username, { password: pw });
  }
  $("staff-form").onsubmit = async (e) => {
    e.preventDefault();
    const d = formData(e.target);
    try {
      await api("POST", "/users", { username: d.username, display_name: d.display_name, staff_no: d.staff_no,
        role: d.role, window: intOrNull(d.window), password: d.password });
      toast("已添加"); e.target.reset(); await loadStaff();
    } catch (err) { toast(`${err.field ? err.field + ": " : ""}${err.message}`, true); }
  };

  // ----------------------------------------------------------- terminals
  const printerNames = { ready: "正常", paper_near_end: "纸将尽", paper_out: "缺纸", cover_open: "纸仓盖开",
    offline: "离线", no_answer: "无应答", none: "无打印机", unknown: "未知" };
  async function loadTerminals() {
    const list = await api("GET", "/terminals");
    const ago = (ts) => ts ? Hall.clock(ts) : "—";
    fill($("terminals-table"), table([["名称"], ["在线"], ["模式"], ["窗口"], ["打印机"], ["最近同步"], ["待发送", "num"], ["脱机号段"], ["运行"], ["版本"], ["地址"], [""]],
      list.map(t => h("tr", null, h("td", null, t.name),
        h("td", null, h("span", { class: "dot" + (t.online ? " on" : "") }), t.revoked ? "已注销" : t.online ? "在线" : `离线 (最后 ${ago(t.last_seen)})`),
        h("td", { title: "注册用途（令牌权限）/ 终端上报" }, modeNames[t.enrolled_mode] || t.enrolled_mode || "—",
          t.mode && t.mode !== t.enrolled_mode ? h("span", { class: "warn" }, ` (上报 ${modeNames[t.mode] || t.mode})`) : null),
        h("td", null, t.enrolled_window ?? t.window ?? "—"),
        h("td", null, t.printer_state ? h("span", { class: t.printer_state === "ready" ? "" : (t.printer_state === "paper_near_end" ? "warn" : "bad") },
          printerNames[t.printer_state] || t.printer_state) : "—"),
        h("td", null, ago(t.last_sync)), h("td", { class: "num" }, t.outbox ?? "—"), h("td", null, t.series || "—"),
        h("td", { title: t.last_error || "" }, t.crash_loop ? h("span", { class: "bad" }, "反复崩溃") :
          (t.crashes_10min ? h("span", { class: "warn" }, `10分钟内出错 ${t.crashes_10min} 次`) : "正常"),
          t.idcard && t.idcard !== "ok" ? h("span", { class: "bad" }, " · 身份证读卡器故障") : null),
        h("td", null, t.version || "—"),
        h("td", null, t.address || "—"),
        h("td", null, t.revoked ? "" : h("button", { class: "btn", type: "button", onclick: () => revoke(t) }, "注销"))))));
  }
  async function loadAddress() {
    const hall = await api("GET", "/hall");
    $("public-url").value = hall.public_url || "";
  }
  $("address-form").onsubmit = async (e) => {
    e.preventDefault();
    try {
      const hall = await api("PUT", "/hall/public-url", { public_url: $("public-url").value.trim() });
      $("public-url").value = hall.public_url;
      toast(hall.public_url ? "已保存，终端同步后小票将打印二维码" : "已保存：不打印二维码");
    } catch (err) { toast(`${err.field ? err.field + ": " : ""}${err.message}`, true); }
  };
  const modeNames = { dispenser: "取号机", evaluator: "评价器", inquiry: "查询机", combined: "查询取号一体机" };
  async function revoke(t) {
    if (!confirm(`注销终端 ${t.name}？它需要新的注册码才能再连接。`)) return;
    try { await api("POST", `/terminals/${t.id}/revoke`); await loadTerminals(); } catch (err) { toast(err.message, true); }
  }
  $("code-form").onsubmit = async (e) => {
    e.preventDefault();
    const name = e.target.name.value.trim(), mode = e.target.mode.value, win = Number(e.target.window.value);
    const body = { mode };
    if (name) body.name = name;
    if (mode === "evaluator" && win) body.window = win;
    try {
      const c = await api("POST", "/terminals/enrollment-codes", body);
      fill($("code-out"), [h("span", { class: "code-box" }, c.code), " ",
        h("span", { class: "hint" }, `有效至 ${new Date(c.expires_at * 1000).toLocaleString("zh-CN")}${c.name ? "，仅限 " + c.name : ""}${c.window ? "，评价 " + c.window + " 号窗口" : ""}`)]);
    } catch (err) { toast(err.message, true); }
  };

  // ---------------------------------------------------------------- tabs
  const loaders = { stats: loadStats, services: loadServices, windows: loadServices, staff: loadStaff, terminals: () => Promise.all([loadTerminals(), loadAddress()]) };
  function current() { const t = location.hash.slice(1); return loaders[t] ? t : "stats"; }
  async function show() {
    const tab = current();
    for (const name of Object.keys(loaders)) $("tab-" + name).hidden = name !== tab;
    document.querySelectorAll("#tabs a").forEach(a => a.classList.toggle("on", a.dataset.tab === tab));
    try { await loaders[tab](); } catch (err) { toast(err.message, true); }
  }
  window.addEventListener("hashchange", show);
  await show();
  const later = Hall.debounce(() => { const t = current(); if (t === "stats" || t === "services" || t === "windows") loaders[t]().catch(() => {}); }, 1500);
  Hall.helpDesk();
  Hall.events(later, (up) => { $("link").textContent = up ? "实时" : "连接中断"; $("link").className = "link-state" + (up ? "" : " down"); });
  setInterval(() => { if (current() === "terminals") loadTerminals().catch(() => {}); }, 15000);
})();
