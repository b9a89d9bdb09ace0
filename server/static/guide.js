"use strict";
// The guide page's checklist: ticks stay on this phone (per guide) so a visitor can gather materials over days.
(() => {
  const list = document.getElementById("materials");
  if (!list) return;
  const key = "hall-guide-ticks:" + list.dataset.guide;
  const boxes = Array.from(list.querySelectorAll("input[type=checkbox]"));
  let saved = [];
  try { saved = JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { saved = []; }
  boxes.forEach(b => { b.checked = saved.includes(b.dataset.n); });
  function show() {
    const n = boxes.filter(b => b.checked).length;
    document.getElementById("ticked").textContent = n === boxes.length ? "材料已备齐，请到窗口办理" : `已备齐 ${n} / ${boxes.length} 项`;
  }
  list.addEventListener("change", () => {
    try { localStorage.setItem(key, JSON.stringify(boxes.filter(b => b.checked).map(b => b.dataset.n))); } catch (e) { /* private mode */ }
    show();
  });
  show();
})();
