"use strict";
// The window call console: one window's current visitor, its buttons, its waiting list.
(async () => {
  const { api, h, fill, clock, toast } = Hall;
  const $ = (id) => document.getElementById(id);
  const who = await Hall.me(["window", "supervisor", "admin"]);
  $("who").textContent = (who.display_name || who.name) + " · " + Hall.roleName(who.role);
  if (who.role !== "window") $("admin-link").hidden = false;
  $("logout").onclick = Hall.logout;

  let windows = [], allWindows = [], services = [], current = null, paused = false, busy = false;
  const stateNames = { called: "已叫号", serving: "办理中" };

  async function loadHall() {
    [windows, services] = await Promise.all([api("GET", "/windows"), api("GET", "/services")]);
    // window staff act on their own window only (the server refuses the others); supervisors pick any
    allWindows = windows;
    if (who.role === "window") windows = windows.filter(w => w.number === who.window);
    const saved = Number(localStorage.getItem("kiosk.window")) || who.window;
    const chosen = windows.some(w => w.number === saved) ? saved : (windows[0] && windows[0].number);
    fill($("window"), windows.map(w => h("option", { value: w.number, selected: w.number === chosen }, `${w.number} 号 ${w.name}`)));
  }
  const windowNumber = () => Number($("window").value);

  function render(view) {
    const w = view.window;
    current = w.current; paused = w.paused;
    const num = $("number");
    num.textContent = current ? current.number : "—";
    num.className = "number" + (current ? "" : " none");
    const badge = $("state");
    badge.textContent = paused ? "已暂停" : current ? stateNames[current.status] || current.status : "空闲";
    badge.className = "state-badge " + (paused ? "paused" : current ? current.status : "");
    fill($("meta"), current ? [
      h("div", null, current.service_name, current.priority ? h("span", { class: "tag prio" }, "绿色通道") : null),
      h("div", null, `叫号 ${clock(current.called_at)} · 第 ${current.call_count} 次呼叫`)] : [h("div", null, paused ? "本窗口暂停叫号" : "按「叫号」呼叫下一位")]);
    const called = current && current.status === "called";
    $("call-next").disabled = paused;
    $("recall").disabled = !called;
    $("no-show").disabled = !called;
    $("start").disabled = !called;
    $("finish").disabled = !current;
    $("transfer").disabled = !current;
    $("pause").firstChild.textContent = paused ? "恢复" : "暂停";
    $("pause").querySelector("small").textContent = paused ? "Resume" : "Pause";
  }

  function renderQueue(q) {
    render({ window: q.window });
    $("waiting-title").textContent = `等候队列 · ${q.today.waiting} 人`;
    const now = Date.now() / 1000;
    fill($("waiting"), q.waiting.length ? q.waiting.map(t => h("li", null,
      h("span", { class: "num" }, t.number),
      h("span", null, t.service_name, t.priority ? h("span", { class: "tag prio" }, "绿色通道") : null,
        t.window ? h("span", { class: "tag" }, "转入") : null),
      h("span", { class: "waited" }, `已等 ${Math.max(0, Math.round((now - t.issued_at) / 60))} 分`))) :
      [h("li", { class: "empty" }, "暂无等候 / nobody waiting")]);
    const c = q.today;
    fill($("counts"), [["已叫", c.called], ["办结", c.done], ["过号", c.no_show], ["转移", c.transferred], ["等候", c.waiting]]
      .map(([label, n]) => h("div", null, h("b", null, n), h("span", null, label))));
  }

  async function refresh() {
    try { renderQueue(await api("GET", `/windows/${windowNumber()}/queue`)); }
    catch (e) { toast(e.message, true); }
  }

  async function act(path, body, done) {
    if (busy) return;  // a double tap must not call two visitors
    busy = true;
    try {
      const view = await api("POST", `/windows/${windowNumber()}/${path}`, body);
      render(view);
      if (done) done(view);
      await refresh();
    } catch (e) {
      toast(e.message, true);
    } finally {
      busy = false;
    }
  }

  $("call-next").onclick = () => act("call-next", undefined, v => toast(v.ticket ? `请 ${v.ticket.number} 号到 ${windowNumber()} 号窗口` : "没有等候的号码"));
  $("recall").onclick = () => act("recall", undefined, v => toast(`重呼 ${v.ticket.number}`));
  $("no-show").onclick = () => act("no-show", undefined, v => toast(`${v.ticket.number} 过号`));
  $("start").onclick = () => act("start");
  $("finish").onclick = () => act("finish", undefined, v => toast(`${v.ticket.number} 办结`));
  $("pause").onclick = () => act(paused ? "resume" : "pause");
  $("call-one").onsubmit = (e) => {
    e.preventDefault();
    const number = $("call-number").value.trim().toUpperCase();
    if (!number) return;
    act("call", { number }, () => { $("call-number").value = ""; });
  };

  const dialog = $("transfer-dialog");
  $("transfer-close").onclick = () => dialog.close();
  $("transfer").onclick = () => {
    const here = windowNumber();
    fill($("to-services"), services.filter(s => !current || s.code !== current.service).map(s =>
      h("button", { type: "button", onclick: () => { dialog.close(); act("transfer", { service: s.code }, v => toast(`${v.ticket.number} 已转到 ${s.name}`)); } }, s.name)));
    fill($("to-windows"), allWindows.filter(w => w.number !== here).map(w =>
      h("button", { type: "button", onclick: () => { dialog.close(); act("transfer", { window: w.number }, v => toast(`${v.ticket.number} 已转到 ${w.number} 号窗口`)); } }, `${w.number} 号 ${w.name}`)));
    dialog.showModal();
  };

  $("window").onchange = () => { localStorage.setItem("kiosk.window", windowNumber()); refresh(); };

  await loadHall();
  await refresh();
  const later = Hall.debounce(refresh, 250);
  Hall.helpDesk();
  Hall.events((kind) => { if (kind === "config_changed") loadHall().then(refresh); else later(); }, (up, again) => {
    $("link").textContent = up ? "已连接" : "连接中断，正在重连…";
    $("link").className = "link-state" + (up ? "" : " down");
    if (up && again) later();  // back after a cut: catch up
  });
  setInterval(refresh, 30000);  // waited minutes tick on; also a safety net behind the stream
})();
