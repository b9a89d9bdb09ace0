"use strict";
// A grouped bar chart on a plain canvas: one group per label, one bar per series.
// opts (optional): { max: fixed top of the scale (e.g. 100 for percentages), suffix: text after values ("%"),
//                   every: label every n-th group only }
function drawBars(canvas, labels, series, opts) {
  opts = opts || {};
  const suffix = opts.suffix || "";
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  canvas.width = width * dpr; canvas.height = height * dpr;
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, width, height);
  const font = getComputedStyle(document.body).fontFamily;
  const left = 48, right = 16, top = 48, bottom = 54;
  const plotW = width - left - right, plotH = height - top - bottom;
  const max = opts.max || Math.max(1, ...series.flatMap(s => s.values.filter(v => v !== null && v !== undefined)));
  // four whole-number gridlines: a step of 1, 2, 5, 10, 20, 50, ...
  const raw = max / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const tick = Math.max(1, [1, 2, 5, 10].map(m => m * mag).find(v => v >= raw));
  const niceMax = opts.max || tick * 4;

  g.font = `13px ${font}`; g.fillStyle = "#5b6675"; g.strokeStyle = "#e3e8ee"; g.textAlign = "right"; g.textBaseline = "middle";
  for (let i = 0; i <= 4; i++) {
    const v = niceMax * i / 4, y = top + plotH - plotH * i / 4;
    g.beginPath(); g.moveTo(left, y); g.lineTo(left + plotW, y); g.stroke();
    g.fillText(String(Math.round(v)) + suffix, left - 8, y);
  }
  const groupW = plotW / Math.max(1, labels.length);
  const barW = Math.min(36, groupW * 0.8 / series.length);
  labels.forEach((label, i) => {
    const x0 = left + groupW * i + (groupW - barW * series.length) / 2;
    series.forEach((s, j) => {
      const v = s.values[i], hgt = plotH * (v || 0) / niceMax;  // null: no data, no bar
      g.fillStyle = s.color;
      g.fillRect(x0 + j * barW, top + plotH - hgt, barW - 3, hgt);
      if (v) { g.fillStyle = "#1b2330"; g.textAlign = "center"; g.textBaseline = "bottom";
               g.fillText(String(v) + suffix, x0 + j * barW + (barW - 3) / 2, top + plotH - hgt - 2); }
    });
    g.fillStyle = "#1b2330"; g.textAlign = "center"; g.textBaseline = "top"; g.font = `14px ${font}`;
    // opts.every: label only every n-th group (many days), so labels stay readable
    const every = opts.every || 1;
    if (i % every === 0) g.fillText(label, left + groupW * i + groupW / 2, top + plotH + 8, groupW * every - 4);
    g.font = `13px ${font}`;
  });
  // legend (colour is not the only cue: each entry is named)
  let lx = left;
  g.textAlign = "left"; g.textBaseline = "middle"; g.font = `14px ${font}`;
  series.forEach(s => {
    g.fillStyle = s.color; g.fillRect(lx, 10, 14, 14);
    g.fillStyle = "#1b2330"; g.fillText(s.name, lx + 20, 17);
    lx += g.measureText(s.name).width + 48;
  });
}
