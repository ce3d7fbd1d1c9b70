"use strict";
// The learning-rate sensitivity (a chart per objective: the median over seeds of the final loss, or the steps to
// target, against the learning-rate factor, a band from the lowest to the highest seed) and the times table. The
// medians, bands, times and chosen trials come from Python; these only draw them.

const MEASURES = {
  loss: { label: "final loss", tab: "final loss" },
  steps: { label: "steps to target", tab: "steps to target" },
};

// Log when every value is positive; symmetric log (linear near 0) when some are exactly 0; linear otherwise.
function valueScale(values, r0, r1) {
  if (!values.length) return linearScale(0, 1, r0, r1);
  const lo = Math.min(...values), hi = Math.max(...values);
  if (lo > 0) return logScale(lo / 1.5, (hi > lo ? hi : lo * 2) * 1.5, r0, r1);
  const positive = values.filter((v) => v > 0);
  if (lo === 0 && positive.length) return symlogScale(0, hi * 1.5, Math.min(...positive), r0, r1);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
  return linearScale(lo - pad, hi + pad, r0, r1);
}

class LrChart {
  constructor(parent, entry, measure, page) {
    this.entry = entry;
    this.page = page;
    const width = 400, height = 270;
    this.box = { x: 62, y: 22, w: width - 76, h: height - 64 };
    this.figure = htmlEl("figure", { class: "lr", "data-objective": entry.objective }, parent);
    this.svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}` }, this.figure);
    const points = entry.lines.flatMap((l) => l.points);
    const factors = points.map((p) => p.factor);
    const values = points.flatMap((p) => p[measure] || []).filter(Number.isFinite);
    const { x, y, w, h } = this.box;
    this.sx = logScale(Math.min(...factors) / 1.6, Math.max(...factors) * 1.6, x, x + w);
    this.sy = valueScale(values, y + h, y);
    drawAxes(this.svg, this.box, this.sx, this.sy, ["learning-rate factor (× the default rate)", MEASURES[measure].label]);
    svgEl("line", { class: "default-lr", x1: this.sx(1), x2: this.sx(1), y1: y, y2: y + h }, this.svg);
    svgEl("rect", { class: "frame", x, y, width: w, height: h }, this.svg);
    svgEl("text", { class: "panel-title", x, y: 14 }, this.svg).textContent = `${entry.objective} (${entry.target})`;
    if (entry.diverged) htmlEl("figcaption", {}, this.figure, `${entry.diverged} runs diverged (no final loss)`);
    this.dots = entry.lines.flatMap((line) => this.drawLine(line, measure));
  }

  drawLine(line, measure) {
    const colour = this.page.colour(line.optimizer);
    const g = svgEl("g", { class: "optimizer", "data-optimizer": line.optimizer }, this.svg);
    const drawn = line.points.filter((p) => p[measure]);
    const upper = drawn.map((p) => [this.sx(p.factor), this.sy(p[measure][2])]);
    const lower = drawn.map((p) => [this.sx(p.factor), this.sy(p[measure][1])]).reverse();
    if (drawn.length) svgEl("path", { class: "band", d: pathData([...upper, ...lower]) + "Z", fill: colour }, g);
    const mid = line.points.map((p) => [this.sx(p.factor), p[measure] ? this.sy(p[measure][0]) : NaN]);
    svgEl("path", { class: "series", d: pathData(mid), stroke: colour, "stroke-width": 1.6 }, g);
    return drawn.map((p) => {
      const dot = svgEl("circle", { class: "lr-dot", r: 3.6, cx: this.sx(p.factor), cy: this.sy(p[measure][0]),
                                    fill: colour, "data-optimizer": line.optimizer, "data-factor": p.factor,
                                    tabindex: 0, role: "button",
                                    "aria-label": `${line.optimizer}, factor ${short(p.factor)}` }, g);
      dot.addEventListener("mouseenter", (event) => tooltip.show(event, this.hoverText(line, p, measure)));
      dot.addEventListener("mouseleave", () => tooltip.hide());
      activate(dot, () => {
        this.page.mark(dot);
        this.page.panel.showRuns(`${line.optimizer} on ${this.entry.objective}, learning-rate factor ${short(p.factor)}`,
                                 `lr ${short(p.lr)}; ${MEASURES[measure].label}: median ${short(p[measure][0])} over the seeds with one`,
                                 p.runs);
      });
      return dot;
    });
  }

  hoverText(line, p, measure) {
    const [mid, lo, hi] = p[measure];
    const counted = p.runs.filter((id) => Number.isFinite(this.page.runs[id][measure === "loss" ? "final_loss" : "steps"]));
    return `<div class="k">${escapeHtml(this.entry.objective)} &middot; ${escapeHtml(line.optimizer)} &middot; factor ${short(p.factor)} (lr ${short(p.lr)})</div>` +
      `<div>${MEASURES[measure].label}: median ${short(mid)}, min ${short(lo)}, max ${short(hi)}</div>` +
      `<div class="k">${counted.length} of ${p.runs.length} seeds with a value; click to list the runs</div>`;
  }
}

class TimesTable {
  constructor(table, data, page) {
    this.page = page;
    const settings = data.settings.map((s) => s.name);
    const head = htmlEl("tr", {}, htmlEl("thead", {}, table));
    const labels = ["objective", "optimizer", ...settings.map((s) => `${s.replace("_", " ")} (× fastest)`),
                    "chosen factor (lr)"];
    for (const label of labels) htmlEl("th", {}, head, label);
    const body = htmlEl("tbody", {}, table);
    this.rows = data.table.map((row) => {
      const tr = htmlEl("tr", { "data-objective": row.objective, "data-optimizer": row.optimizer, tabindex: 0 }, body);
      htmlEl("th", { title: row.target }, tr, row.objective);
      htmlEl("th", {}, tr, row.optimizer);
      for (const s of settings) {
        const cell = row.settings[s];
        const td = htmlEl("td", {}, tr, cell ? TimesTable.time(cell) : "—");
        if (cell && cell.ratio === 1) td.classList.add("best");
      }
      htmlEl("td", {}, tr, `${short(row.chosen.factor)} (${short(row.chosen.lr)})`);
      activate(tr, () => { this.select(tr); page.selectCell(row); });
      return tr;
    });
  }

  static time(cell) {
    return cell.time === null ? "∞" : `${short(cell.time)} (×${short(cell.ratio)})`;
  }

  select(tr) {
    for (const r of this.rows) r.classList.toggle("selected", r === tr);
  }
}
