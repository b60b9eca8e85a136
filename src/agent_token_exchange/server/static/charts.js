// Small SVG charts for the dashboard: no library, nothing fetched from the internet.
// Axes are ticked at round numbers (9,000 / 10,000, never 9.1k) and at round clock times
// (UTC); both charts are drawn over the same time window, given by the caller.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 600, H = 260, PAD = { left: 64, right: 14, top: 12, bottom: 30 };
  const MINUTE = 60000, HOUR = 3600000;
  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }

  // A step of 1, 2, 2.5 or 5 times a power of ten, giving about `count` intervals.
  function niceStep(range, count) {
    const raw = Math.max(range, 1e-9) / count;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * power) return m * power;
    return 10 * power;
  }

  // Round ticks covering [min, max]; the axis then runs from the first tick to the last.
  function niceTicks(min, max, count = 4) {
    if (max === min) { max += 1; min = Math.max(0, min - 1); }
    const step = niceStep(max - min, count);
    const first = Math.floor(min / step) * step, last = Math.ceil(max / step) * step;
    const ticks = [];
    for (let v = first; v <= last + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
    return { ticks, step };
  }

  function number(v, step) {
    const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
    return v.toLocaleString("en-US", { minimumFractionDigits: decimals,
                                        maximumFractionDigits: decimals });
  }

  function clock(ms) { return new Date(ms).toISOString().slice(11, 16); }

  function timeTicks(minX, maxX) {
    const step = TIME_STEPS.find((s) => (maxX - minX) / s <= 6) || TIME_STEPS[TIME_STEPS.length - 1];
    const ticks = [];
    for (let t = Math.ceil(minX / step) * step; t <= maxX; t += step) ticks.push(t);
    return ticks;
  }

  function frame(svg, yTicks, window) {
    const [minX, maxX] = window;
    const minY = yTicks.ticks[0], maxY = yTicks.ticks[yTicks.ticks.length - 1];
    const sx = (x) => PAD.left + (W - PAD.left - PAD.right) * (x - minX) / (maxX - minX);
    const sy = (y) => H - PAD.bottom - (H - PAD.top - PAD.bottom) * (y - minY) / (maxY - minY);
    for (const v of yTicks.ticks) {
      el("line", { class: "grid", x1: PAD.left, y1: sy(v), x2: W - PAD.right, y2: sy(v) }, svg);
      const t = el("text", { class: "ytick", x: PAD.left - 6, y: sy(v) + 4,
                             "text-anchor": "end", "data-value": v }, svg);
      t.textContent = number(v, yTicks.step);
    }
    el("line", { class: "axis", x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right,
                 y2: H - PAD.bottom }, svg);
    for (const x of timeTicks(minX, maxX)) {
      el("line", { class: "axis", x1: sx(x), y1: H - PAD.bottom, x2: sx(x),
                   y2: H - PAD.bottom + 4 }, svg);
      const t = el("text", { class: "xtick", x: sx(x), y: H - PAD.bottom + 16,
                             "text-anchor": "middle" }, svg);
      t.textContent = clock(x);
    }
    const unit = el("text", { x: W - PAD.right, y: H - 2, "text-anchor": "end" }, svg);
    unit.textContent = "UTC";
    return { sx, sy };
  }

  // series: [{name, colour, points: [[timeMs, value], ...]}] drawn as step lines over
  // `window`; returns the names actually drawn (the legend lists only those).
  function lines(svg, series, window, legend) {
    clear(svg);
    const [minX, maxX] = window;
    const shown = series.map((s) => {
      // The value at the window's start, then every change inside it.
      let before = null;
      const inside = [];
      for (const p of s.points) {
        if (p[0] <= minX) before = p; else if (p[0] <= maxX) inside.push(p);
      }
      const pts = before ? [[minX, before[1]], ...inside] : inside;
      return { ...s, pts };
    }).filter((s) => s.pts.length);
    if (legend) legend.textContent = "";
    if (!shown.length) return [];
    const values = shown.flatMap((s) => s.pts.map((p) => p[1]));
    const yTicks = niceTicks(Math.min(...values), Math.max(...values));
    const { sx, sy } = frame(svg, yTicks, window);
    for (const s of shown) {
      let d = "";
      s.pts.forEach(([x, y], j) => { d += j === 0 ? `M${sx(x)},${sy(y)}` : `H${sx(x)}V${sy(y)}`; });
      d += `H${sx(maxX)}`;
      el("path", { d, fill: "none", stroke: s.colour, "stroke-width": 1.8,
                   "data-series": s.name }, svg);
      if (legend) {
        const item = document.createElement("span");
        const swatch = document.createElement("i");
        swatch.style.background = s.colour;
        item.append(swatch, document.createTextNode(s.name));
        legend.appendChild(item);
      }
    }
    return shown.map((s) => s.name);
  }

  // buckets: [[startMs, total], ...] of `bucketMs` each, drawn as bars over `window`.
  function bars(svg, buckets, window, bucketMs, unit) {
    clear(svg);
    const maxY = Math.max(0, ...buckets.map((b) => b[1]));
    const yTicks = niceTicks(0, maxY || 1);
    const { sx, sy } = frame(svg, yTicks, window);
    for (const [x, v] of buckets) {
      if (!v) continue;
      const left = sx(Math.max(x, window[0])), right = sx(Math.min(x + bucketMs, window[1]));
      const bar = el("rect", { class: "bar", x: left + 0.5, y: sy(v),
                               width: Math.max(1, right - left - 1), height: sy(0) - sy(v) }, svg);
      el("title", {}, bar).textContent = `${clock(x)}–${clock(x + bucketMs)} UTC: ${
        number(v, 0.01)} ${unit}`;
    }
  }

  return { lines, bars, niceTicks, clock, MINUTE, HOUR };
})();
