// Shared by every page: the API helper (cookie session + CSRF header), DOM building, the event stream.
"use strict";

const Hall = (() => {
  let csrf = "";
  // A county user opens a hall's pages with ?hall=CODE: every call goes to /api/v1/halls/CODE/...
  // (sign-in is not about a hall); staff of a hall and terminals use their own hall's plain routes.
  const hallCode = new URLSearchParams(location.search).get("hall") || "";
  const hallBase = hallCode ? "/api/v1/halls/" + encodeURIComponent(hallCode) : "/api/v1";
  function url(path) { return (path.startsWith("/auth/") ? "/api/v1" : hallBase) + path; }

  async function api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    if (method !== "GET" && csrf) opts.headers["X-CSRF-Token"] = csrf;
    const r = await fetch(url(path), opts);
    if (r.status === 401 && !path.startsWith("/auth/login")) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search + location.hash);
      return new Promise(() => {});  // the page is leaving: nothing after this should run
    }
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
    if (!r.ok) {
      const err = new Error((data && data.message) || ("HTTP " + r.status));
      err.status = r.status; err.field = data && data.field; err.code = data && data.error;
      throw err;
    }
    return data;
  }

  // Send a file as the raw body (e.g. a staff photo), with the CSRF header; errors as api() throws them.
  async function upload(method, path, file) {
    const r = await fetch(url(path), { method, credentials: "same-origin", body: file,
      headers: { "Content-Type": file.type || "application/octet-stream", "X-CSRF-Token": csrf } });
    if (!r.ok) {
      let data = null;
      try { data = await r.json(); } catch (e) { data = null; }
      const err = new Error((data && data.message) || ("HTTP " + r.status));
      err.status = r.status; err.field = data && data.field;
      throw err;
    }
  }

  // Who is signed in; sends a visitor without a session to the sign-in page. The county admin may
  // open every hall page, the county viewer those that list "county-viewer"; a county user with no
  // hall chosen goes to the county overview.
  async function me(roles) {
    // every page asks who is signed in first: after this, today() and clock() use the hall's zone
    const [who] = await Promise.all([api("GET", "/auth/me"), zoneKnown]);
    csrf = who.csrf;
    const county = who.role === "county-admin" || who.role === "county-viewer";
    if (roles && !roles.includes(who.role) && !(who.role === "county-admin" && roles.includes("admin"))) {
      location.href = "/login?denied=1";
      return new Promise(() => {});
    }
    if (county && !hallCode && roles) {
      location.href = "/county";
      return new Promise(() => {});
    }
    if (county && hallCode) countyBar();
    return who;
  }

  const ROLE_NAMES = { window: "窗口人员", supervisor: "主管", admin: "管理员", "county-admin": "县级管理员",
                       "county-viewer": "县级查看" };
  function roleName(role) { return ROLE_NAMES[role] || role; }

  // On a hall's pages opened from /county: links keep ?hall=, and the header says which hall it is.
  function countyBar() {
    for (const a of document.querySelectorAll("a[href^='/']")) {
      const href = a.getAttribute("href");
      if (href.startsWith("/api/") || href.startsWith("/static/") || href.startsWith("/county")) continue;
      const [path, hash] = href.split("#");
      a.setAttribute("href", path + (path.includes("?") ? "&" : "?") + "hall=" + encodeURIComponent(hallCode)
        + (hash !== undefined ? "#" + hash : ""));
    }
    const bar = document.querySelector("header.bar");
    if (bar && !document.getElementById("county-back")) {
      bar.prepend(h("a", { id: "county-back", class: "button", href: "/county" }, "全县总览"));
      const title = bar.querySelector("h1");
      if (title) title.append(h("span", { class: "hall-code" }, " · " + hallCode));
    }
  }

  // h("div", {class: "x", onclick: f}, "text", child...) — never innerHTML, so names cannot inject markup.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function fill(el, ...children) { el.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined)); }

  // Every clock a person sees uses the hall's time zone, not the browser machine's.
  let zone;
  function setZone(tz) { if (tz) zone = tz; }
  function timeZone() { return zone; }
  const zoneKnown = fetch("/healthz" + (hallCode ? "?hall=" + encodeURIComponent(hallCode) : "")).then(r => r.ok ? r.json() : {}).then(j => setZone(j.timezone)).catch(() => {});

  function clock(ts) {
    const d = ts ? new Date(ts * 1000) : new Date();
    return d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone });
  }

  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return Math.round(seconds) + " 秒";
    return (seconds / 60).toFixed(1) + " 分";
  }

  function today() {
    // en-CA formats as YYYY-MM-DD
    return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone })
      .format(new Date());
  }

  // The event stream, reconnecting by itself (EventSource does) and reporting its state.
  function events(onEvent, onState) {
    const kinds = ["ticket_issued", "ticket_called", "ticket_started", "ticket_finished", "ticket_no_show",
                   "ticket_transferred", "ticket_cancelled", "window_paused", "window_resumed", "config_changed",
                   "rating_recorded", "followup_changed"];
    const helpKinds = ["help_requested", "help_dismissed"];  // staff pages only: see helpDesk()
    // onState(up, again): again is true when the stream comes back after a cut (time to catch up);
    // the first open needs no refetch, the page has just loaded its data.
    let source, cut = false;
    function open() {
      source = new EventSource(url("/events"));
      source.onopen = () => { if (cut && help.box) loadHelp(); if (onState) onState(true, cut); };
      source.onerror = () => {
        cut = true;
        if (onState) onState(false, true);
        // EventSource retries by itself after a cut (the server's retry: 3 s), but gives up for good on
        // an answer that is not a stream (a proxy's 502 while the server restarts): then open a new one.
        if (source.readyState === EventSource.CLOSED) setTimeout(() => { if (!stopped) open(); }, 3000);
      };
      for (const k of kinds) source.addEventListener(k, e => onEvent(k, JSON.parse(e.data)));
      for (const k of helpKinds) source.addEventListener(k, e => onHelp(k, JSON.parse(e.data)));
    }
    let stopped = false;
    open();
    return () => { stopped = true; source.close(); };
  }

  // 呼叫工作人员: a banner per open help request at the top of a staff page, live from the event
  // stream, with the time in the hall's zone; 已处理 dismisses it for every staff member.
  const help = { box: null, open: new Map() };
  function helpDesk() {
    help.box = h("div", { id: "help-alerts", class: "help-alerts", role: "alert", "aria-live": "assertive" });
    const bar = document.querySelector("header.bar");
    if (bar) bar.after(help.box); else document.body.prepend(help.box);
    return loadHelp();
  }
  async function loadHelp() {
    try {
      const list = await api("GET", "/terminals/help");
      help.open = new Map(list.map(r => [r.id, r]));
    } catch (err) { return; }  // the next event or reconnect tries again
    await drawHelp();
  }
  async function drawHelp() {
    await zoneKnown;
    fill(help.box, [...help.open.values()].map(r => h("div", { class: "help-alert", "data-id": r.id },
      h("strong", {}, `${r.terminal} 请求协助`), h("span", { class: "help-time" }, clock(r.at)),
      h("button", { type: "button", onclick: () => dismissHelp(r.id) }, "已处理"))));
  }
  async function dismissHelp(id) {
    try { await api("POST", `/terminals/help/${id}/dismiss`); help.open.delete(id); drawHelp(); }
    catch (err) { toast(err.message, true); }
  }
  function onHelp(kind, data) {
    if (!help.box) return;
    if (kind === "help_requested") help.open.set(data.help.id, data.help); else help.open.delete(data.help.id);
    drawHelp();
  }

  // Run fn at most once per `ms`, trailing: many events in a burst cause one refresh.
  function debounce(fn, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function toast(text, bad) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.className = "toast show" + (bad ? " bad" : "");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.className = "toast"; }, bad ? 6000 : 2500);
  }

  async function logout() {
    try { await api("POST", "/auth/logout"); } catch (e) { /* already gone */ }
    location.href = "/login";
  }

  return { api, upload, me, h, fill, clock, minutes, today, events, helpDesk, debounce, toast, logout, setZone,
           timeZone, url, hallCode, roleName };
})();
