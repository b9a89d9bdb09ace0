"use strict";
(() => {
  const form = document.getElementById("signin");
  const error = document.getElementById("error");
  const params = new URLSearchParams(location.search);
  if (params.get("denied")) error.textContent = "此账号无权打开该页面 / this account may not open that page";

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const button = document.getElementById("submit");
    button.disabled = true;
    try {
      const who = await Hall.api("POST", "/auth/login", {
        username: form.username.value.trim(), password: form.password.value, cookie: true });
      const next = params.get("next");
      // only a path on this server: never bounce to another site
      if (next && next.startsWith("/") && !next.startsWith("//")) location.href = next;
      else location.href = who.role === "window" ? "/console" : who.role.startsWith("county-") ? "/county" : "/admin";
    } catch (err) {
      error.textContent = err.status === 401 ? "用户名或密码错误 / wrong username or password" : err.message;
      form.password.select();
    } finally {
      button.disabled = false;
    }
  });
})();
