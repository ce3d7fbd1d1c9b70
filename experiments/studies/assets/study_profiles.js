"use strict";
// The performance profiles of one setting: rho_s(tau) as steps on a log tau axis, a curve per optimizer (its own
// colour and dash, so curves on one level stay apart), a dot at each step; hovering a dot says what it counts,
// clicking it lists the objectives and the runs behind their times in the panel. The steps come from Python.

const DASHES = ["none", "7 3", "9 3 2 3", "2 3", "12 2 2 2 2 2"];

function powersOfTwo(right) {
  const ticks = [];
  for (let v = 1; v <= right * 1.0001; v *= 2) ticks.push(v);
  return ticks.length >= 2 ? ticks : [1, right];
}

function fraction(count, total) {
  return `${count} of ${total} objective${total === 1 ? "" : "s"}`;
}

// A click, or Enter or space on the focused element (dots are in the tab order).
function activate(el, act) {
  el.addEventListener("click", act);
  el.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); act(); }
  });
}

class ProfileChart {
  constructor(parent, setting, data, page) {
    this.setting = setting;
    this.page = page;
    this.hidden = new Set();
    const width = 580, height = 360;
    this.box = { x: 60, y: 12, w: width - 78, h: height - 58 };
    this.figure = htmlEl("figure", { class: "profile", "data-setting": setting.name }, parent);
    const row = htmlEl("div", { class: "profile-row" }, this.figure);
    this.svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "profile-svg" }, row);
    this.sx = logScale(1, data.tau_right, this.box.x, this.box.x + this.box.w);
    this.sx.ticks = powersOfTwo(data.tau_right);
    this.sy = linearScale(-0.03, 1.03, this.box.y + this.box.h, this.box.y);
    const { x, y, h } = this.box;
    svgEl("rect", { class: "score-range", x, y, width: this.sx(data.tau_max) - x, height: h }, this.svg);
    drawAxes(this.svg, this.box, this.sx, this.sy,
             ["τ: steps to target / the fastest optimizer's (log scale)", "ρ(τ): share of objectives"]);
    svgEl("rect", { class: "frame", x, y, width: this.box.w, height: h }, this.svg);
    this.curves = setting.curves.map((curve) => this.drawCurve(curve));
    this.legend(row);
    htmlEl("figcaption", {}, this.figure).innerHTML =
      `<b>${escapeHtml(setting.title)}</b>, ${setting.problems.length} objectives: ${setting.problems.map(escapeHtml).join(", ")}.`;
  }

  // The steps as a path: from (1, 0) along rho; each rise is vertical at its tau; flat out to the axis' end.
  drawCurve(curve) {
    const g = svgEl("g", { class: "optimizer", "data-optimizer": curve.name }, this.svg);
    const colour = this.page.colour(curve.name), dash = DASHES[this.page.index(curve.name) % DASHES.length];
    const points = [[1, 0]];
    for (const s of curve.steps) points.push([s.tau, points[points.length - 1][1]], [s.tau, s.rho]);
    points.push([this.sx.domain[1], points[points.length - 1][1]]);
    svgEl("path", { class: "curve", d: pathData(points.map(([t, r]) => [this.sx(t), this.sy(r)])), stroke: colour,
                    "stroke-dasharray": dash }, g);
    const dots = curve.steps.map((s, i) => {
      const dot = svgEl("circle", { class: "step-dot", r: 4.5, cx: this.sx(s.tau), cy: this.sy(s.rho), fill: colour,
                                    "data-optimizer": curve.name, "data-index": i, "data-tau": s.tau, tabindex: 0,
                                    role: "button", "aria-label": `${curve.name}: ρ(${short(s.tau)}) = ` +
                                    `${s.problems.length}/${this.setting.problems.length}` }, g);
      dot.addEventListener("mouseenter", (event) => tooltip.show(event, this.hoverText(curve, i)));
      dot.addEventListener("mouseleave", () => tooltip.hide());
      activate(dot, () => this.page.selectStep(this.setting, curve, i));
      return dot;
    });
    return { curve, g, dots };
  }

  // Each curve with a dot at the same place (same tau and rho), and that dot's index: on one level several
  // optimizers can rise together, each counting its own objectives.
  sameDot(curve, index) {
    const s = curve.steps[index], out = [];
    for (const c of this.setting.curves) {
      const i = c.steps.findIndex((t) => t.tau === s.tau && t.rho === s.rho);
      if (i >= 0 && !this.hidden.has(c.name)) out.push([c, i]);
    }
    return out;
  }

  hoverText(curve, index) {
    const s = curve.steps[index], n = this.setting.problems.length;
    const lines = this.sameDot(curve, index).map(([c, i]) =>
      `<div><span style="color:${this.page.colour(c.name)}">&#9632;</span> ${escapeHtml(c.name)}: ` +
      `${c.steps[i].problems.map(escapeHtml).join(", ")}</div>`);
    return `<div class="k">${escapeHtml(this.setting.title)} &middot; τ = ${short(s.tau)}: ` +
      `ρ = ${s.problems.length}/${n} (${fraction(s.problems.length, n)})</div>${lines.join("")}` +
      `<div class="k">click to list the runs</div>`;
  }

  legend(row) {
    const aside = htmlEl("aside", { class: "legend" }, row);
    htmlEl("h3", {}, aside, "optimizer (score)");
    const n = this.setting.problems.length;
    const ranked = [...this.curves].sort((a, b) => b.curve.score - a.curve.score);
    for (const item of ranked) {
      const { curve } = item;
      const label = htmlEl("label", { class: "legend-item", "data-optimizer": curve.name }, aside);
      const box = htmlEl("input", { type: "checkbox" }, label);
      box.checked = true;
      const sample = svgEl("svg", { class: "line-sample", width: 26, height: 10 }, label);
      svgEl("line", { x1: 1, x2: 25, y1: 5, y2: 5, stroke: this.page.colour(curve.name), "stroke-width": 2,
                      "stroke-dasharray": DASHES[this.page.index(curve.name) % DASHES.length] }, sample);
      const text = htmlEl("span", {}, label);
      htmlEl("div", { class: "name" }, text, `${curve.name} (score ${curve.score.toFixed(2)})`);
      htmlEl("div", { class: "meta" }, text, `reached the target on ${fraction(curve.solved, n)}`);
      box.addEventListener("change", () => this.show(curve.name, box.checked, label));
    }
  }

  show(name, visible, label) {
    if (visible) this.hidden.delete(name); else this.hidden.add(name);
    label.classList.toggle("off", !visible);
    this.curves.find((c) => c.curve.name === name).g.classList.toggle("hidden-run", !visible);
  }

  mark(curve, index) {
    for (const item of this.curves) item.dots.forEach((d, i) => d.classList.toggle("selected", item.curve === curve && i === index));
  }
}
