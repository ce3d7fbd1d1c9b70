"use strict";
// Shared helpers: decoding the page's binary arrays, exact number formatting, colours, scales and SVG elements.

const SVG_NS = "http://www.w3.org/2000/svg";

function decodeArray(entry) {
  if (!entry) return null;
  const text = atob(entry.b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const type = { f4: Float32Array, f8: Float64Array, i4: Int32Array, i8: BigInt64Array }[entry.dtype];
  return new type(bytes.buffer);
}

// The shortest decimal that reads back as the same float32 (or float64) value: what the run recorded, exactly.
function exact(value, single) {
  if (value === undefined || value === null) return "—";
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (!single) return String(value);
  for (let digits = 1; digits <= 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(value);
}

function short(value) {
  if (value === undefined || value === null || Number.isNaN(value)) return "—";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e5 || magnitude < 1e-3)) return value.toExponential(3);
  return String(Number(value.toPrecision(5)));
}

const PALETTE = ["#1f77b4", "#e8590c", "#2b9348", "#c2255c", "#7048e8", "#8c6d1f", "#0b7285", "#d6336c",
                 "#5c940d", "#495057"];

function runColour(index) {
  if (index < PALETTE.length) return PALETTE[index];
  const hue = (index * 137.508) % 360;  // the golden angle: every further run gets a distinct hue
  return `hsl(${hue.toFixed(0)}, 62%, 42%)`;
}

// Background shades of the landscape, low loss to high: muted, so the runs' colours stand out on them.
const RAMP = [[116, 137, 160], [150, 169, 189], [185, 200, 214], [214, 224, 233], [236, 240, 244], [252, 252, 250]];

function rampColour(t) {
  const x = Math.min(Math.max(t, 0), 1) * (RAMP.length - 1);
  const i = Math.min(Math.floor(x), RAMP.length - 2);
  const f = x - i;
  return RAMP[i].map((c, j) => Math.round(c + f * (RAMP[i + 1][j] - c)));
}

function svgEl(name, attrs, parent) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function htmlEl(name, attrs, parent, text) {
  const el = document.createElement(name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  if (parent) parent.appendChild(el);
  return el;
}

function linearScale(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  const f = (v) => r0 + ((v - d0) / span) * (r1 - r0);
  f.invert = (p) => d0 + ((p - r0) / (r1 - r0)) * span;
  f.domain = [d0, d1];
  f.log = false;
  return f;
}

function logScale(d0, d1, r0, r1) {
  const l0 = Math.log10(d0), l1 = Math.log10(d1);
  const inner = linearScale(l0, l1, r0, r1);
  const f = (v) => (v > 0 ? inner(Math.log10(v)) : NaN);
  f.invert = (p) => Math.pow(10, inner.invert(p));
  f.domain = [d0, d1];
  f.log = true;
  return f;
}

// Linear within +-c of zero, logarithmic beyond: values of both signs over many decades (effective step sizes).
function symlogScale(d0, d1, c, r0, r1) {
  const t = (v) => Math.sign(v) * Math.log10(1 + Math.abs(v) / c);
  const inner = linearScale(t(d0), t(d1), r0, r1);
  const f = (v) => inner(t(v));
  f.invert = (p) => { const u = inner.invert(p); return Math.sign(u) * c * (Math.pow(10, Math.abs(u)) - 1); };
  f.domain = [d0, d1];
  f.symlog = c;
  return f;
}

function symlogTicks(d0, d1, c) {
  const ticks = [0];
  for (let e = Math.ceil(Math.log10(c)); e <= 300; e++) {
    const v = Math.pow(10, e);
    if (v > Math.max(Math.abs(d0), Math.abs(d1))) break;
    if (v <= d1) ticks.push(v);
    if (-v >= d0) ticks.unshift(-v);
  }
  const every = Math.ceil(ticks.length / 7);
  return ticks.filter((v, i) => v === 0 || Math.abs(i - ticks.indexOf(0)) % every === 0);
}

function niceTicks(d0, d1, count) {
  const span = d1 - d0;
  if (!(span > 0)) return [d0];
  const raw = span / count, power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(d0 / step) * step; v <= d1 + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function logTicks(d0, d1) {
  const ticks = [];
  const first = Math.floor(Math.log10(d0)), last = Math.ceil(Math.log10(d1));
  const every = Math.max(1, Math.ceil((last - first) / 6));
  for (let e = first; e <= last; e += every) { const v = Math.pow(10, e); if (v >= d0 * 0.999 && v <= d1 * 1.001) ticks.push(v); }
  return ticks.length >= 2 ? ticks : niceTicks(d0, d1, 4);
}

// Tick labels with as many digits as the spacing of the ticks needs (0.0098, 0.0099, 0.01 rather than 0.01 twice).
function tickTexts(ticks, log) {
  if (log || ticks.length < 2) return ticks.map((v) => tickText(v, log));
  const step = Math.abs(ticks[1] - ticks[0]), largest = Math.max(...ticks.map(Math.abs));
  if (largest >= 1e5 || largest < 1e-3) {
    const digits = Math.min(12, Math.max(1, Math.ceil(Math.log10(largest / step)) + 1));
    return ticks.map((v) => (v === 0 ? "0" : Number(v.toPrecision(digits)).toExponential()));
  }
  const decimals = Math.min(12, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
  return ticks.map((v) => String(Number(v.toFixed(decimals))));
}

function tickText(v, log) {
  if (log && v < 0) return "-" + tickText(-v, log);
  if (log && v === 0) return "0";
  if (log) { const e = Math.round(Math.log10(v)); return Math.abs(Math.log10(v) - e) < 1e-9 ? (e >= -2 && e <= 3 ? String(Math.pow(10, e)) : `1e${e}`) : short(v); }
  return short(v);
}

// Axes with ticks, grid lines and labels around the rectangle (x0, y0, w, h) of an SVG.
function drawAxes(svg, box, sx, sy, labels) {
  const grid = svgEl("g", { class: "grid" }, svg);
  const axis = svgEl("g", { class: "axis" }, svg);
  const xt = sx.ticks  // a scale may bring its own ticks (powers of 2 on a performance profile's tau axis)
    || (sx.log ? logTicks(...sx.domain) : niceTicks(...sx.domain, Math.max(2, Math.round(box.w / 80))));
  const yt = sy.log ? logTicks(...sy.domain) : sy.symlog ? symlogTicks(...sy.domain, sy.symlog)
    : niceTicks(...sy.domain, Math.max(2, Math.round(box.h / 45)));
  const xs = tickTexts(xt, sx.log), ys = tickTexts(yt, sy.log || sy.symlog);
  let lastX = -Infinity, lastY = Infinity;
  xt.forEach((v, i) => {
    const x = sx(v);
    if (!(x >= box.x - 0.5 && x <= box.x + box.w + 0.5)) return;
    svgEl("line", { x1: x, x2: x, y1: box.y, y2: box.y + box.h }, grid);
    svgEl("line", { x1: x, x2: x, y1: box.y + box.h, y2: box.y + box.h + 4 }, axis);
    if (x - lastX < 7 * xs[i].length) return;  // no label over its neighbour's
    svgEl("text", { x, y: box.y + box.h + 16, "text-anchor": "middle" }, axis).textContent = xs[i];
    lastX = x;
  });
  yt.forEach((v, i) => {
    const y = sy(v);
    if (!(y >= box.y - 0.5 && y <= box.y + box.h + 0.5)) return;
    svgEl("line", { x1: box.x, x2: box.x + box.w, y1: y, y2: y }, grid);
    svgEl("line", { x1: box.x - 4, x2: box.x, y1: y, y2: y }, axis);
    if (lastY - y < 13) return;
    svgEl("text", { x: box.x - 7, y: y + 3.5, "text-anchor": "end" }, axis).textContent = ys[i];
    lastY = y;
  });
  svgEl("text", { class: "axis-label", x: box.x + box.w / 2, y: box.y + box.h + 32, "text-anchor": "middle" }, axis)
    .textContent = labels[0];
  svgEl("text", { class: "axis-label", transform: `translate(${box.x - 44},${box.y + box.h / 2}) rotate(-90)`,
                  "text-anchor": "middle" }, axis).textContent = labels[1];
  return { grid, axis };
}

// Indices of at most about `limit` points that keep each bucket's smallest and largest value (spikes survive).
function thinIndices(values, count, limit) {
  if (count <= limit) return Array.from({ length: count }, (_, i) => i);
  const buckets = Math.floor(limit / 2), size = count / buckets, out = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size), end = Math.min(count, Math.floor((b + 1) * size));
    let lo = start, hi = start;
    for (let i = start; i < end; i++) {
      if (values && values[i] < values[lo]) lo = i;
      if (values && values[i] > values[hi]) hi = i;
    }
    if (!values) { out.push(start); continue; }
    out.push(Math.min(lo, hi)); if (hi !== lo) out.push(Math.max(lo, hi));
  }
  if (out[out.length - 1] !== count - 1) out.push(count - 1);
  return out;
}

// An SVG path through (x, y) pairs, broken wherever a point is not finite.
function pathData(points) {
  let d = "", pen = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; continue; }
    d += (pen ? "L" : "M") + x.toFixed(1) + "," + y.toFixed(1);
    pen = true;
  }
  return d;
}

function lastRowAtOrBefore(steps, step) {
  let lo = 0, hi = steps.length - 1;
  if (step <= steps[0]) return 0;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (steps[mid] <= step) lo = mid; else hi = mid - 1; }
  return lo;
}

const tooltip = {
  el: null,
  show(event, html) {
    this.el = this.el || document.getElementById("tooltip");
    this.el.innerHTML = html;
    this.el.hidden = false;
    const x = Math.min(event.clientX + 14, window.innerWidth - this.el.offsetWidth - 8);
    const y = Math.min(event.clientY + 14, window.innerHeight - this.el.offsetHeight - 8);
    this.el.style.left = x + "px";
    this.el.style.top = y + "px";
  },
  hide() { if (this.el) this.el.hidden = true; },
};

function escapeHtml(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}
