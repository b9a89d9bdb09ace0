"use strict";
// The visitor's ticket page (/q/TOKEN): live over the hall's event stream, polling every 10 s while it is cut.
(() => {
  const $ = (id) => document.getElementById(id);
  const h = (tag, cls, ...kids) => { const el = document.createElement(tag); if (cls) el.className = cls; el.append(...kids); return el; };
  let s = JSON.parse($("state").textContent);
  const token = s.token;
  const POLL_MS = 10000;
  const page = window.hallPhone = { state: s, fetches: 0, polls: 0, live: false, vibrations: 0 };

  function wait(sec) {
    if (!sec) return "无需等待";
    const m = Math.max(1, Math.round(sec / 60));
    return m < 60 ? `约 ${m} 分钟` : `约 ${Math.floor(m / 60)} 小时 ${m % 60} 分`;
  }

  const NOTES = {
    waiting: null,
    called: "轮到您了，请马上到窗口办理",
    serving: "正在窗口办理",
    done: "已办结，感谢您的耐心等候",
    no_show: "已过号。如仍需办理，请到取号机重新取号",
    cancelled: "此号码已取消",
    transferred: "已转到其他窗口，请留意叫号",
    syncing: "取号机正与服务器同步，稍后自动显示排队进度",
    expired: "号码当日有效。如需办理，请到取号机重新取号",
  };

  function render(d, fresh) {
    const before = s;
    s = page.state = Object.assign({ token }, d);
    if (d.number) { $("number").textContent = d.number; document.title = `${d.number} · ${d.hall}`; }
    $("service").textContent = d.service_name || "";
    const status = $("status");
    status.textContent = d.status_text;
    status.dataset.state = d.state;
    const facts = [];
    if (d.state === "waiting") {
      facts.push(["前面等候", `${d.people_ahead} 人`], ["预计等候", wait(d.estimated_wait_s)]);
    }
    $("facts").replaceChildren(...facts.map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, v))));
    $("note").textContent = NOTES[d.state] || "";
    $("note").hidden = !NOTES[d.state];
    const calling = (d.calling || []).map(c => {
      const li = h("li", c.number === d.number ? "mine" : "", h("span", null, `${c.window} 号窗口`), h("b", null, c.number));
      return li;
    });
    $("calling").replaceChildren(...(calling.length ? calling : [h("li", "none", "暂无")]));
    const called = d.state === "called" && d.window;
    const banner = $("banner");
    if (called) {
      banner.textContent = `轮到您了，请到 ${d.window} 号窗口`;
      const isNew = fresh || before.state !== "called" || before.window !== d.window;
      banner.hidden = false;
      if (isNew) alertVisitor();
    } else {
      banner.hidden = true;
    }
    $("updated").textContent = "更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
    if (d.state === "done" || d.state === "cancelled" || d.state === "expired") stop();
  }

  function alertVisitor() {
    page.vibrations += 1;
    try { if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]); } catch (e) { /* not allowed yet */ }
  }

  async function refresh(fresh) {
    page.fetches += 1;
    try {
      const r = await fetch(`/api/v1/public/tickets/${encodeURIComponent(token)}`, { cache: "no-store" });
      if (r.status === 404) { $("status").textContent = "号码已失效"; return; }
      if (r.ok) render(await r.json(), fresh);
    } catch (e) { /* offline for a moment: the next event or poll tries again */ }
  }

  // ---------------------------------------------------------------- live updates
  let source = null, pollTimer = null, reopenTimer = null, debounce = null, stopped = false, wasUp = false;

  function setLive(up) {
    page.live = up;
    $("live").textContent = up ? "实时更新" : "每 10 秒刷新";
  }

  function startPolling() {
    if (pollTimer || stopped) return;
    pollTimer = setInterval(() => { page.polls += 1; refresh(false); }, POLL_MS);
  }

  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

  function onEvent(kind, data) {
    const t = data && data.ticket;
    if (kind === "ticket_called" && t && t.number === s.number && t.service === s.service) {
      refresh(true);  // our call: at once, and alert again on a recall
      return;
    }
    clearTimeout(debounce);
    debounce = setTimeout(() => refresh(false), 400);  // a burst of events: one fetch
  }

  function open() {
    if (stopped || !window.EventSource) { startPolling(); setLive(false); return; }
    source = new EventSource("/api/v1/events");
    source.onopen = () => {
      stopPolling();
      setLive(true);
      if (wasUp) refresh(false);  // back after a cut: catch up on what was missed
      wasUp = true;
    };
    source.onerror = () => {
      setLive(false);
      startPolling();
      if (source.readyState === 2 && !reopenTimer) {  // refused for good: try a new stream later
        source.close();
        reopenTimer = setTimeout(() => { reopenTimer = null; open(); }, POLL_MS);
      }
    };
    for (const k of ["ticket_issued", "ticket_called", "ticket_started", "ticket_finished", "ticket_no_show",
                     "ticket_transferred", "ticket_cancelled", "window_paused", "window_resumed"]) {
      source.addEventListener(k, e => { let d = null; try { d = JSON.parse(e.data); } catch (x) { d = null; } onEvent(k, d); });
    }
  }

  function stop() {
    stopped = true;
    stopPolling();
    clearTimeout(reopenTimer);
    if (source) source.close();
    $("live").textContent = "已结束";
  }

  render(s, true);
  if (!stopped) { setLive(false); open(); }
  if (s.state === "syncing") startPolling();
})();
