"use strict";
// A line chart over the steps: one series per run (and per coordinate), a cursor at the selected step, values on
// hover, a click selects that step.

class LineChart {
  constructor(parent, options, app) {
    this.app = app;
    this.options = options;
    this.series = options.series.filter((s) => s.steps.length);
    const width = options.width || 470, height = options.height || 170;
    this.box = { x: 58, y: 8, w: width - 70, h: height - 48 };
    this.figure = htmlEl("figure", { class: `chart ${options.kind}` }, parent);
    this.svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "chart-svg" }, this.figure);
    if (options.caption) htmlEl("figcaption", {}, this.figure).innerHTML = options.caption;
    this.scales();
    drawAxes(this.svg, this.box, this.sx, this.sy, ["step", options.yLabel]);
    const clip = `clip-${options.kind}-${LineChart.count = (LineChart.count || 0) + 1}`;
    svgEl("rect", { x: this.box.x, y: this.box.y, width: this.box.w, height: this.box.h },
          svgEl("clipPath", { id: clip }, svgEl("defs", {}, this.svg)));
    const plot = svgEl("g", { "clip-path": `url(#${clip})` }, this.svg);
    svgEl("rect", { class: "frame", x: this.box.x, y: this.box.y, width: this.box.w, height: this.box.h }, this.svg);
    this.lines = this.series.map((s) => this.drawSeries(plot, s));
    this.cursor = svgEl("line", { class: "cursor", y1: this.box.y, y2: this.box.y + this.box.h }, this.svg);
    this.dots = this.series.map((s) => svgEl("circle", { class: "dot", r: 3.2, fill: s.colour, "data-run": s.run },
                                             this.svg));
    this.listen();
  }

  scales() {
    let lo = Infinity, hi = -Infinity, x0 = Infinity, x1 = -Infinity, positive = true;
    const values = [];
    for (const s of this.series) {
      x0 = Math.min(x0, s.steps[0]); x1 = Math.max(x1, s.steps[s.steps.length - 1]);
      for (const v of s.values) if (Number.isFinite(v) && Math.abs(v) < 1e300) { values.push(v); if (v <= 0) positive = false; }
    }
    if (!Number.isFinite(x0)) { x0 = 0; x1 = 1; }
    if (x1 === x0) x1 = x0 + 1;
    values.sort((a, b) => a - b);
    const pick = (q) => values[Math.min(values.length - 1, Math.max(0, Math.round(q * (values.length - 1))))];
    const robust = this.options.robust && values.length > 20;
    lo = values.length ? (robust ? pick(0.01) : values[0]) : 0;
    hi = values.length ? (robust ? pick(0.99) : values[values.length - 1]) : 1;
    if (this.options.fixed) [lo, hi] = this.options.fixed;
    this.log = this.options.log !== false && positive && values.length > 0 && hi > lo;
    const { x, y, w, h } = this.box;
    this.sx = linearScale(x0, x1, x, x + w);
    const magnitudes = values.map(Math.abs).filter((v) => v > 0).sort((a, b) => a - b);
    if (this.options.symlog && !positive && magnitudes.length) {
      // the smallest typical magnitude is the linear part's width: every decade above it stays readable
      const c = magnitudes[Math.floor(magnitudes.length * 0.05)];
      this.sy = symlogScale(Math.min(lo, 0) * 1.3, Math.max(hi, 0) * 1.3, c, y + h, y);
    } else if (this.log) this.sy = logScale(lo / 1.3, hi * 1.3, y + h, y);
    else { const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.1 || 1; this.sy = linearScale(lo - pad, hi + pad, y + h, y); }
  }

  drawSeries(plot, s) {
    const keep = thinIndices(s.values, s.steps.length, 1500);
    const points = keep.map((i) => [this.sx(s.steps[i]), this.sy(s.values[i])]);
    return svgEl("path", { class: "series", d: pathData(points), stroke: s.colour, "data-run": s.run,
                           "stroke-dasharray": s.dash || "none", "stroke-width": s.width || 1.5,
                           "stroke-opacity": s.faint ? 0.35 : 1 }, plot);
  }

  setStep(step) {
    const x = this.sx(step);
    this.cursor.setAttribute("x1", x); this.cursor.setAttribute("x2", x);
    this.series.forEach((s, i) => {
      const row = lastRowAtOrBefore(s.steps, step);
      const y = this.sy(s.values[row]);
      const ok = Number.isFinite(y) && y >= this.box.y && y <= this.box.y + this.box.h;
      this.dots[i].setAttribute("cx", this.sx(s.steps[row]));
      this.dots[i].setAttribute("cy", ok ? y : -100);
    });
  }

  setVisible(run, visible) {
    for (const el of this.svg.querySelectorAll(`[data-run="${run}"]`)) el.classList.toggle("hidden-run", !visible);
  }

  listen() {
    const hit = svgEl("rect", { x: this.box.x, y: this.box.y, width: this.box.w, height: this.box.h,
                                fill: "transparent" }, this.svg);
    const at = (event) => {
      const r = this.svg.getBoundingClientRect();
      return Math.round(this.sx.invert(event.clientX - r.left));
    };
    hit.addEventListener("mousemove", (event) => {
      const step = at(event);
      const rows = this.series.filter((s) => this.app.visible[s.run]).map((s) => {
        const row = lastRowAtOrBefore(s.steps, step);
        return `<div><span style="color:${s.colour}">&#9632;</span> ${escapeHtml(s.label)}: ${short(s.values[row])}</div>`;
      });
      tooltip.show(event, `<div class="k">step ${step} &middot; ${escapeHtml(this.options.yLabel)}</div>${rows.join("")}`);
    });
    hit.addEventListener("mouseleave", () => tooltip.hide());
    hit.addEventListener("click", (event) => this.app.selectStep(at(event)));
  }
}
