"use strict";
// Plain SVG charts (no library, no CDN): day-by-day lines and grouped bars. Text is SVG text, so the
// browser's own font (the hall's web font) draws Chinese; colours are attributes, never inline styles
// (the pages' CSP allows no inline style).
const SvgChart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  function el(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function scale(values, fixedMax) {
    const max = fixedMax || Math.max(1, ...values.filter(v => v !== null && v !== undefined));
    const raw = max / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const tick = fixedMax ? fixedMax / 4 : Math.max(1, [1, 2, 5, 10].map(m => m * mag).find(v => v >= raw));
    return tick * 4;
  }
  function frame(svg, top, suffix, opts) {
    const W = opts.width || 900, H = opts.height || 300;
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const box = { left: 56, right: 30, top: 40, bottom: 44 };
    box.w = W - box.left - box.right; box.h = H - box.top - box.bottom;
    for (let i = 0; i <= 4; i++) {
      const y = box.top + box.h - box.h * i / 4;
      svg.append(el("line", { x1: box.left, x2: box.left + box.w, y1: y, y2: y, stroke: "#e3e8ee" }));
      svg.append(el("text", { x: box.left - 8, y: y + 4, "text-anchor": "end", "font-size": 13, fill: "#5b6675" },
        String(Math.round(top * i / 4 * 10) / 10) + suffix));
    }
    return box;
  }
  function legend(svg, series, box) {
    let x = box.left;
    for (const s of series) {
      svg.append(el("rect", { x, y: 10, width: 14, height: 14, fill: s.color, rx: 2 }));
      const t = el("text", { x: x + 20, y: 22, "font-size": 14, fill: "#263238" }, s.name);
      svg.append(t);
      x += 34 + 15 * s.name.length;
    }
  }
  function xLabels(svg, labels, box, xAt, every) {
    labels.forEach((l, i) => {
      if (i % every) return;
      svg.append(el("text", { x: xAt(i), y: box.top + box.h + 20, "text-anchor": "middle", "font-size": 13,
        fill: "#5b6675" }, l));
    });
  }
  // lines(svg, ["03-01", ...], [{name, color, values: [n|null]}], {max, suffix, every})
  function lines(svg, labels, series, opts) {
    opts = opts || {};
    const suffix = opts.suffix || "";
    const top = scale(series.flatMap(s => s.values), opts.max);
    const box = frame(svg, top, suffix, opts);
    const n = Math.max(1, labels.length - 1);
    const xAt = (i) => box.left + (labels.length === 1 ? box.w / 2 : box.w * i / n);
    const yAt = (v) => box.top + box.h - box.h * v / top;
    for (const s of series) {
      let d = "";
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        d += (d && s.values[i - 1] !== null && s.values[i - 1] !== undefined ? "L" : "M") + xAt(i).toFixed(1) + " " + yAt(v).toFixed(1);
      });
      svg.append(el("path", { d, fill: "none", stroke: s.color, "stroke-width": 2.5, "stroke-linejoin": "round",
        "data-series": s.name }));
      if (labels.length <= 62) s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const c = el("circle", { cx: xAt(i), cy: yAt(v), r: 3.5, fill: s.color });
        c.append(el("title", {}, `${labels[i]} ${s.name}: ${v}${suffix}`));
        svg.append(c);
      });
    }
    xLabels(svg, labels, box, xAt, opts.every || Math.max(1, Math.ceil(labels.length / 12)));
    legend(svg, series, box);
  }
  // bars(svg, ["1号 劳动保障", ...], [{name, color, values}], {max, suffix})
  function bars(svg, labels, series, opts) {
    opts = opts || {};
    const suffix = opts.suffix || "";
    const top = scale(series.flatMap(s => s.values), opts.max);
    const box = frame(svg, top, suffix, opts);
    const groupW = box.w / Math.max(1, labels.length);
    const barW = Math.min(36, groupW * 0.8 / series.length);
    const xAt = (i) => box.left + groupW * (i + 0.5);
    series.forEach((s, k) => s.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      const hgt = box.h * v / top, x = xAt(i) - barW * series.length / 2 + k * barW;
      const r = el("rect", { x: x.toFixed(1), y: (box.top + box.h - hgt).toFixed(1), width: (barW - 2).toFixed(1),
        height: Math.max(0, hgt).toFixed(1), fill: s.color, "data-series": s.name });
      r.append(el("title", {}, `${labels[i]} ${s.name}: ${v}${suffix}`));
      svg.append(r);
      if (groupW > 50) svg.append(el("text", { x: (x + barW / 2 - 1).toFixed(1), y: (box.top + box.h - hgt - 4).toFixed(1),
        "text-anchor": "middle", "font-size": 12, fill: "#263238" }, String(v) + suffix));
    }));
    // window names can be long: the number only under the bar, the full name in the tooltip/table
    xLabels(svg, labels.map(l => l.length > 6 ? l.split(" ")[0] : l), box, xAt, 1);
    legend(svg, series, box);
  }
  return { lines, bars };
})();
