"use strict";
// 整改回访: every bad rating is a case; supervisors record the rectification, then the call back.
(async () => {
  const { api, h, fill, toast } = Hall;
  const $ = (id) => document.getElementById(id);
  const who = await Hall.me(["supervisor", "admin", "county-viewer"]);
  $("who").textContent = (who.display_name || who.name) + " · " + Hall.roleName(who.role);
  $("logout").onclick = Hall.logout;

  const when = (ts) => ts ? new Date(ts * 1000).toLocaleString("zh-CN", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }) : "";
  let filter = "pending";

  async function loadSettings() {
    const s = await api("GET", "/rating-settings");
    $("days").value = s.followup_days;
  }
  $("settings").onsubmit = async (e) => {
    e.preventDefault();
    try {
      await api("PUT", "/rating-settings", { followup_days: Number($("days").value) });
      toast("已保存：新的差评按此期限计算");
    } catch (err) { toast(`${err.field ? err.field + ": " : ""}${err.message}`, true); }
  };

  function deadline(f) {
    if (f.state === "called_back" || f.state === "rejected") return h("span", { class: "hint" }, `期限 ${f.due_date}`);
    if (f.overdue) return h("span", { class: "due overdue" }, `已逾期 ${-f.days_left} 天（期限 ${f.due_date}）`);
    if (f.days_left <= 3) return h("span", { class: "due soon" }, `剩 ${f.days_left} 天（期限 ${f.due_date}）`);
    return h("span", { class: "due" }, `剩 ${f.days_left} 天（期限 ${f.due_date}）`);
  }

  function history(f) {
    const items = [h("li", null, h("b", null, "差评 "), `${when(f.rating.created_at)}`)];
    const v = f.verification;
    if (v) items.push(h("li", null, h("b", null, v.verdict_name + " "), `${when(v.at)} · ${v.by}：`, v.reason,
      v.verdict === "rejected" ? "（不计入满意率）" : ""));
    if (f.rectified_at) items.push(h("li", null, h("b", null, "整改 "), `${when(f.rectified_at)} · ${f.rectified_by}：`, f.rectify_note));
    if (f.called_back_at) items.push(h("li", null, h("b", null, "回访 "), `${when(f.called_back_at)} · ${f.called_back_by}：`, f.callback_note,
      f.callback_satisfied === null ? "" : (f.callback_satisfied ? "（群众满意）" : "（群众仍不满意）")));
    return h("ol", { class: "steps" }, items);
  }

  function verifyForm(f) {
    const reason = h("textarea", { rows: 2, maxlength: 1000, required: true, class: "note",
      placeholder: "核实情况：如 调取监控和评价记录，情况属实 / 群众误按", "aria-label": "核实情况" });
    const send = (verdict) => async () => {
      const text = reason.value.trim();
      if (!text) { toast("请先填写核实情况", true); reason.focus(); return; }
      try {
        await api("POST", `/followups/${f.id}/verify`, { verdict, reason: text });
        toast(verdict === "rejected" ? "已核实不属实：保留记录，不计入满意率" : "已核实属实，请整改");
        await load();
      } catch (err) { toast(`${err.field ? err.field + ": " : ""}${err.message}`, true); await load(); }
    };
    return h("div", { class: "act verify" }, reason, h("div", { class: "row" },
      h("button", { class: "btn", type: "button", onclick: send("confirmed") }, "核实属实"),
      h("button", { class: "btn", type: "button", onclick: send("rejected") }, "核实不属实")));
  }

  function action(f) {
    if (f.state === "called_back") return h("div", { class: "done-mark" }, "已办结");
    if (f.state === "rejected") return h("div", { class: "done-mark" }, "核实不属实，已撤销");
    if (!f.verification) return h("div", null, verifyForm(f), stepForm(f));
    return stepForm(f);
  }

  function stepForm(f) {
    const rectify = f.state === "open";
    const note = h("textarea", { rows: 2, maxlength: 1000, required: true, class: "note",
      placeholder: rectify ? "整改措施：如 已约谈窗口人员，补充告知材料清单…" : "回访结果：如 电话回访，群众表示问题已解决…",
      "aria-label": rectify ? "整改措施" : "回访结果" });
    const satisfied = rectify ? null : h("select", { "aria-label": "群众是否满意" },
      h("option", { value: "" }, "群众意见（可选）"), h("option", { value: "yes" }, "满意"), h("option", { value: "no" }, "仍不满意"));
    const button = h("button", { class: "btn main", type: "submit" }, rectify ? "记录整改" : "记录回访");
    return h("form", { class: "act", onsubmit: async (e) => {
      e.preventDefault();
      const text = note.value.trim();
      if (!text) { toast("请先填写" + (rectify ? "整改措施" : "回访结果"), true); note.focus(); return; }
      button.disabled = true;
      try {
        const body = { note: text };
        if (satisfied && satisfied.value) body.satisfied = satisfied.value === "yes";
        await api("POST", `/followups/${f.id}/${rectify ? "rectify" : "callback"}`, body);
        toast(rectify ? "已记录整改，请回访群众" : "已记录回访，本件办结");
        await load();
      } catch (err) { button.disabled = false; toast(`${err.field ? err.field + ": " : ""}${err.message}`, true); await load(); }
    } }, note, h("div", { class: "row" }, satisfied, button));
  }

  function card(f) {
    const r = f.rating;
    return h("article", { class: "case card" + (f.overdue ? " overdue" : "") + (f.state === "called_back" || f.state === "rejected" ? " closed" : ""), id: f.id },
      h("header", { class: "case-head" },
        h("span", { class: "lvtag lv" + r.level }, r.level_name),
        h("span", { class: "state st-" + f.state }, f.state_name),
        deadline(f)),
      h("div", { class: "case-body" },
        h("div", null,
          h("p", { class: "reasons" }, r.reason_names.join("、")),
          h("p", { class: "meta" }, `${r.window}号 ${r.window_name}`, r.staff_name ? ` · ${r.staff_name}` : "",
            r.service_name ? ` · ${r.service_name}` : "", r.ticket_number ? ` · ${r.ticket_number} 号` : " · 窗口评价"),
          h("p", { class: "meta" }, "回访电话：", r.phone ? h("b", null, r.phone) : "未留"),
          history(f)),
        action(f)));
  }

  async function load() {
    const q = { pending: "", open: "?state=open", rectified: "?state=rectified", overdue: "?overdue=true",
      called_back: "?state=called_back", rejected: "?state=rejected", all: "" }[filter];
    const [list, all] = await Promise.all([api("GET", "/followups" + q), api("GET", "/followups?limit=5000")]);
    const shown = filter === "pending" ? list.filter(f => f.state !== "called_back" && f.state !== "rejected") : list;
    const count = (p) => all.filter(p).length;
    fill($("counts"),
      h("div", { class: "tile" }, h("b", null, count(f => f.state === "open")), h("span", null, "待整改")),
      h("div", { class: "tile" }, h("b", null, count(f => f.state === "rectified")), h("span", null, "待回访")),
      h("div", { class: "tile" + (count(f => f.overdue) ? " low" : "") }, h("b", null, count(f => f.overdue)), h("span", null, "已逾期")),
      h("div", { class: "tile" }, h("b", null, count(f => f.state === "called_back")), h("span", null, "已回访")),
      h("div", { class: "tile" }, h("b", null, count(f => f.state === "rejected")), h("span", null, "核实不属实")));
    fill($("cases"), shown.length ? shown.map(card) : h("p", { class: "empty-cases" }, "没有需要处理的差评"));
    if (location.hash.length > 1) {
      const el = document.getElementById(location.hash.slice(1));
      if (el) { el.classList.add("focus"); el.scrollIntoView({ block: "center" }); }
    }
  }

  document.querySelectorAll("#states button").forEach(b => b.onclick = () => {
    filter = b.dataset.state;
    document.querySelectorAll("#states button").forEach(x => x.classList.toggle("on", x === b));
    load().catch(err => toast(err.message, true));
  });
  await Promise.all([loadSettings(), load()]).catch(err => toast(err.message, true));
  const later = Hall.debounce(() => {
    if (document.activeElement && document.activeElement.tagName === "TEXTAREA") return;  // never wipe a note being typed
    load().catch(() => {});
  }, 1500);
  Hall.events((kind) => { if (kind === "rating_recorded" || kind === "followup_changed") later(); },
    (up) => { $("link").textContent = up ? "实时" : "连接中断"; $("link").className = "link-state" + (up ? "" : " down"); });
})();
