// Small SVG charts for the dashboard: no library, nothing fetched from the internet.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 600, H = 260, PAD = { left: 56, right: 12, top: 12, bottom: 28 };
  const COLOURS = ["#4c9aff", "#3fb97a", "#e0a93b", "#e5534b", "#b07cf7", "#39c5cf",
                   "#f778ba", "#a0b84a", "#d2884c", "#8b9bb4"];

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }

  function compact(n) {
    const a = Math.abs(n);
    if (a >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (a >= 1e3) return (n / 1e3).toFixed(a >= 1e4 ? 0 : 1) + "k";
    return String(Math.round(n * 100) / 100);
  }

  function clock(ms) {
    const d = new Date(ms);
    return d.toISOString().slice(11, 16);
  }

  function axes(svg, minY, maxY, minX, maxX) {
    el("line", { class: "axis", x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right,
                 y2: H - PAD.bottom }, svg);
    el("line", { class: "axis", x1: PAD.left, y1: PAD.top, x2: PAD.left,
                 y2: H - PAD.bottom }, svg);
    for (let i = 0; i <= 4; i++) {
      const v = minY + (maxY - minY) * i / 4;
      const y = H - PAD.bottom - (H - PAD.top - PAD.bottom) * i / 4;
      el("line", { class: "axis", x1: PAD.left - 4, y1: y, x2: PAD.left, y2: y }, svg);
      const t = el("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end" }, svg);
      t.textContent = compact(v);
    }
    [minX, maxX].forEach((x, i) => {
      const t = el("text", { x: i ? W - PAD.right : PAD.left, y: H - 8,
                             "text-anchor": i ? "end" : "start" }, svg);
      t.textContent = clock(x);
    });
  }

  // series: {name: [[timeMs, value], ...]} drawn as step lines.
  function lines(svg, series, legend) {
    clear(svg);
    const names = Object.keys(series).sort();
    const points = names.flatMap((n) => series[n]);
    if (!points.length) return;
    let minX = Math.min(...points.map((p) => p[0]));
    const maxX = Math.max(Date.now(), ...points.map((p) => p[0]));
    if (maxX - minX < 60000) minX = maxX - 60000;
    let minY = Math.min(...points.map((p) => p[1]));
    let maxY = Math.max(...points.map((p) => p[1]));
    if (maxY === minY) { maxY += 1; minY = Math.max(0, minY - 1); }
    const sx = (x) => PAD.left + (W - PAD.left - PAD.right) * (x - minX) / (maxX - minX);
    const sy = (y) => H - PAD.bottom - (H - PAD.top - PAD.bottom) * (y - minY) / (maxY - minY);
    axes(svg, minY, maxY, minX, maxX);
    if (legend) legend.textContent = "";
    names.forEach((name, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const pts = series[name];
      let d = "";
      pts.forEach(([x, y], j) => {
        d += j === 0 ? `M${sx(x)},${sy(y)}` : `H${sx(x)}V${sy(y)}`;
      });
      d += `H${sx(maxX)}`;
      el("path", { d, fill: "none", stroke: colour, "stroke-width": 1.6,
                   "data-series": name }, svg);
      if (legend) {
        const item = document.createElement("span");
        const swatch = document.createElement("i");
        swatch.style.background = colour;
        item.append(swatch, name);
        legend.appendChild(item);
      }
    });
  }

  // buckets: [[minuteStartMs, total], ...] drawn as bars.
  function bars(svg, buckets) {
    clear(svg);
    if (!buckets.length) return;
    const maxY = Math.max(1, ...buckets.map((b) => b[1]));
    const minX = buckets[0][0], maxX = buckets[buckets.length - 1][0] + 60000;
    axes(svg, 0, maxY, minX, maxX);
    const width = (W - PAD.left - PAD.right) / buckets.length;
    buckets.forEach(([x, v]) => {
      const h = (H - PAD.top - PAD.bottom) * v / maxY;
      const bar = el("rect", {
        x: PAD.left + width * ((x - minX) / 60000) + 1, y: H - PAD.bottom - h,
        width: Math.max(1, width - 2), height: h, fill: "#e0a93b",
      }, svg);
      el("title", {}, bar).textContent = `${clock(x)}: ${compact(v)} tokens`;
    });
  }

  return { lines, bars };
})();
