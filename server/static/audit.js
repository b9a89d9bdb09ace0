"use strict";
// 操作记录: the audit trail (who, what, when, from where), with a CSV export of the same filter.
(async () => {
  const { api, h, fill, toast } = Hall;
  const $ = (id) => document.getElementById(id);
  const who = await Hall.me(["supervisor", "admin"]);
  $("who").textContent = (who.display_name || who.name) + " · " + Hall.roleName(who.role);
  $("logout").onclick = Hall.logout;
  const outcomes = { ok: "完成", refused: "未执行", denied: "无权限", throttled: "需等待" };
  const actions = {
    "auth.login": "登录", "window.call_next": "叫号", "window.call": "指定叫号", "window.recall": "重呼",
    "window.no_show": "过号", "window.start": "开始办理", "window.finish": "办结", "window.transfer": "转移",
    "window.pause": "暂停", "window.resume": "恢复", "window.add": "添加窗口", "window.update": "修改窗口",
    "service.add": "添加业务", "service.update": "修改业务", "user.add": "添加人员", "user.update": "修改人员",
    "user.photo": "上传照片", "user.photo_delete": "删除照片", "terminal.enrollment_code": "生成注册码",
    "terminal.revoke": "注销终端", "terminal.settings": "终端设置", "guides.replace": "更新办事指南",
    "ticket.issue": "取号", "ticket.cancel": "取消号码", "rating.add": "录入评价", "ratings.settings": "评价设置",
    "followup.rectify": "整改", "followup.callback": "回访", "hall.public_url": "手机访问地址",
  };
  const form = $("filter");
  form.from.value = form.to.value = Hall.today();  // the hall's day, not the browser machine's
  const when = (ts) => new Date(ts * 1000).toLocaleString("zh-CN", { hour12: false, timeZone: Hall.timeZone() });
  const detail = (d) => Object.entries(d).filter(([, v]) => v !== null && v !== "" && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ");

  function query() {
    const q = new URLSearchParams({ from: form.from.value, to: form.to.value });
    if (form.actor.value.trim()) q.set("actor", form.actor.value.trim());
    if (form.action.value) q.set("action", form.action.value);
    return q.toString();
  }
  async function load() {
    const q = query();
    $("csv").href = Hall.url("/audit.csv?") + q;
    const rows = await api("GET", "/audit?" + q);
    fill($("entries"), rows.length ? h("table", null,
      h("thead", null, h("tr", null, ["时间", "人员", "操作", "对象", "结果", "地址", "详情"].map(t => h("th", null, t)))),
      h("tbody", null, rows.map(r => h("tr", null,
        h("td", null, when(r.at)), h("td", null, `${r.actor} (${r.role})`), h("td", { title: r.action }, actions[r.action] || r.action),
        h("td", null, r.target), h("td", { class: r.outcome === "ok" ? "" : "bad" }, outcomes[r.outcome] || r.outcome),
        h("td", null, r.address), h("td", { class: "hint" }, detail(r.detail)))))) : h("p", { class: "hint" }, "没有记录"));
  }
  form.onsubmit = (e) => { e.preventDefault(); load().catch(err => toast(err.message, true)); };
  await load().catch(err => toast(err.message, true));
})();
