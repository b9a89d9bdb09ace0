"use strict";
// The hall TV: current call per window, the last five calls, waiting counts, a chime and a spoken call.
(() => {
  const { api, h, fill } = Hall;
  const $ = (id) => document.getElementById(id);
  const state = { announced: [], windowNames: {}, serviceNames: {} };
  window.hallDisplay = state;  // lets a test (or a curious installer) see what was announced

  // ------------------------------------------------------------------ clock
  function tick() {
    const d = new Date(), timeZone = Hall.timeZone();  // the hall's zone, whatever the TV box is set to
    $("date").textContent = d.toLocaleDateString("zh-CN", { month: "long", day: "numeric", weekday: "long", timeZone });
    $("clock").textContent = d.toLocaleTimeString("zh-CN", { hour12: false, timeZone });
  }
  tick(); setInterval(tick, 1000);

  // ---------------------------------------------------------------- render
  function render(d) {
    Hall.setZone(d.timezone);
    $("hall").textContent = d.hall;
    document.title = "叫号显示屏 · " + d.hall;
    d.window_numbers.forEach((n, i) => { state.windowNames[n] = d.window_names[i]; });
    d.waiting.forEach(s => { state.serviceNames[s.code] = s.name; });
    fill($("windows"), d.window_numbers.map((n, i) => {
      const call = d.windows[i];
      return h("div", { class: "tv-win" },
        h("div", { class: "name" }, h("b", null, `${n} 号窗口`), d.window_names[i]),
        h("div", { class: "num" + (call ? "" : " free") }, call ? call.number : "空闲"));
    }));
    fill($("recent"), d.recent.map(c => h("li", null, h("b", null, c.number), h("span", null, `${c.window} 号窗口`,
      h("small", null, Hall.clock(c.called_at))))));
    fill($("waiting"), [h("span", null, "等候人数")].concat(d.waiting.map(s =>
      h("span", null, s.name, h("b", null, s.waiting), "人"))));
    if (!state.shown && d.recent.length) showNow(d.recent[0], false);
  }

  function showNow(call, flash) {
    state.shown = call;
    const box = $("now");
    fill(box, [h("div", { class: "tv-number" }, call.number),
      h("div", { class: "tv-window" }, `请到 ${call.window} 号窗口`),
      h("div", { class: "tv-service" }, call.service_name || call.window_name || "")]);
    if (flash) { box.classList.remove("flash"); void box.offsetWidth; box.classList.add("flash"); }
  }

  async function refresh() {
    try { render(await api("GET", "/display")); } catch (e) { /* the stream state shows the outage */ }
  }

  // ----------------------------------------------------------- announcing
  // Calls are queued and played one after another: chime, then speech, never overlapping.
  const queue = [];
  let playing = false, soundBlocked = false;
  const chime = new Audio("/static/chime.wav");
  chime.preload = "auto";

  function spokenNumber(number) {
    const digits = "零一二三四五六七八九";
    return number.replace(/\d/g, d => digits[Number(d)]);
  }

  function playChime() {
    return new Promise(resolve => {
      chime.currentTime = 0;
      const done = () => { clearTimeout(timer); chime.onended = null; resolve(); };
      const timer = setTimeout(done, 3000);
      chime.onended = done;
      const p = chime.play();
      if (p) p.catch(err => {
        if (err && err.name === "NotAllowedError") { soundBlocked = true; $("sound").hidden = false; }
        done();
      });
    });
  }

  function speak(text) {
    return new Promise(resolve => {
      if (!("speechSynthesis" in window) || soundBlocked) return resolve();
      const u = new SpeechSynthesisUtterance(text);
      u.lang = "zh-CN"; u.rate = 0.85; u.volume = 1;
      const voice = speechSynthesis.getVoices().find(v => /^zh(-|_)?(CN|Hans)?/i.test(v.lang));
      if (voice) u.voice = voice;
      // Some engines never fire onend (or have no voice at all): do not stall the queue.
      const timer = setTimeout(() => { speechSynthesis.cancel(); resolve(); }, 2500 + text.length * 400);
      u.onend = u.onerror = () => { clearTimeout(timer); resolve(); };
      speechSynthesis.speak(u);
    });
  }

  async function pump() {
    if (playing) return;
    playing = true;
    while (queue.length) {
      const call = queue.shift();
      showNow(call, true);
      const text = `请 ${call.number} 号到 ${call.window} 号窗口办理`;
      state.announced.push(text);
      await playChime();
      await speak(`请 ${spokenNumber(call.number)} 号到 ${call.window} 号窗口办理`);
      await new Promise(r => setTimeout(r, 600));
    }
    playing = false;
  }

  function announce(ticket, windowNumber) {
    queue.push({ number: ticket.number, window: windowNumber, service_name: state.serviceNames[ticket.service] || "", window_name: state.windowNames[windowNumber] || "" });
    pump();
  }

  $("sound").onclick = () => {
    soundBlocked = false;
    $("sound").hidden = true;
    chime.play().then(() => chime.pause()).catch(() => {});
  };

  // ---------------------------------------------------------------- wiring
  const later = Hall.debounce(refresh, 300);
  Hall.events((kind, data) => {
    if (kind === "ticket_called" && data.ticket && data.window) announce(data.ticket, data.window);
    later();
  }, (up, again) => {
    $("offline").hidden = up;
    if (up && again) later();  // back after a cut: catch up (the first open needs no second fetch)
  });
  refresh();
  setInterval(refresh, 60000);
})();
