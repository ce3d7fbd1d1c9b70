"use strict";
// The page: a section per group of runs (landscape, charts over the steps, legend, readout), one step slider for
// every run, play/pause, toggling runs.

const DESCRIPTIONS = {
  param: "parameter", grad: "gradient ∇L", update: "update Δθ to the next recorded step",
  "step size": "effective step −Δθ/∇L per coordinate",
};

class Explorer {
  constructor(data) {
    this.data = data;
    this.runs = data.runs.map((r, i) => this.decodeRun(r, i));
    this.visible = this.runs.map(() => true);
    this.steps = Array.from(new Set(this.runs.flatMap((r) => Array.from(r.step)))).sort((a, b) => a - b);
    if (!this.steps.length) this.steps = [0];
    this.views = [];
    this.readouts = [];
    document.getElementById("title").textContent = data.title;
    document.getElementById("subtitle").textContent = data.subtitle;
    const main = document.getElementById("groups");
    data.groups.forEach((group, g) => this.buildGroup(main, { ...group, index: g }));
    const notes = document.getElementById("notes");
    for (const note of data.notes) htmlEl("li", {}, notes, note);
    this.controls();
    this.selectStep(this.steps[0]);
  }

  decodeRun(r, index) {
    const run = { ...r, index, colour: runColour(index), single: r.dtype === "float32" };
    for (const key of ["step", "loss", "lr", "pos", "descent", "update", "cos"]) run[key] = decodeArray(r[key]);
    if (r.full_loss) { run.fullStep = decodeArray(r.full_loss.step); run.fullLoss = decodeArray(r.full_loss.value); }
    run.tensors = r.tensors.map((t) => ({ ...t, values: decodeArray(t.values), norm: decodeArray(t.norm) }));
    const finite = Array.from(run.loss).filter(Number.isFinite);
    run.finalLoss = run.loss[run.loss.length - 1];
    run.finiteLosses = finite.length;
    return run;
  }

  buildGroup(main, group) {
    const section = htmlEl("section", { class: "group", "data-group": group.index }, main);
    htmlEl("h2", {}, section, group.label);
    const note = htmlEl("p", { class: "plane-note" }, section);
    const full = group.minibatches ? " the true objective over the full data set (not a step's minibatch)" : " the loss";
    const drawn = group.kind === "line" ? "The curve" : "Shades and contour lines";
    note.textContent = group.grid ? `Landscape: ${group.plane}. ${drawn}:${full}.`
      : `Paths in ${group.plane}. No landscape: ${group.problem || "the objective is unknown"}.`;
    if (group.problem) note.classList.add("problem");
    const row = htmlEl("div", { class: "row" }, section);
    const members = group.runs.map((i) => this.runs[i]);
    this.views.push(new Landscape(row, group, this.runs, this));
    const charts = htmlEl("div", { class: "charts" }, row);
    this.views.push(...this.charts(charts, group, members));
    this.legend(row, group, members);
    this.readouts.push(new Readout(section, group, members, this));
  }

  charts(parent, group, members) {
    const series = (values, extra) => members.map((r) => ({ run: r.index, colour: r.colour, label: r.name, steps: r.step,
                                                          values: values(r), ...(extra || {}) }));
    const lossCaption = group.minibatches ? "<b>Loss</b>: thin, each step's minibatch loss as recorded; thick, the " +
      "full-data loss along the path (the landscape's function)" : "<b>Loss</b> at each recorded step";
    const losses = series((r) => r.loss, group.minibatches ? { faint: true } : {});
    for (const r of members) {
      if (r.fullStep) losses.push({ run: r.index, colour: r.colour, label: `${r.name} (full data)`, steps: r.fullStep,
                                    values: r.fullLoss, width: 2.2 });
    }
    const out = [
      new LineChart(parent, { kind: "loss", yLabel: "loss", series: losses, caption: lossCaption }, this),
      new LineChart(parent, { kind: "cosine", yLabel: "cos(−∇L, Δθ)", series: series((r) => r.cos), fixed: [-1, 1], log: false,
                              caption: "<b>cos(−∇L, Δθ)</b>: 1 when the update follows the negative gradient; momentum and " +
                                       "per-coordinate scaling turn it away" }, this),
    ];
    const dashes = ["", "5 3", "1.5 2.5", "8 3 2 3"], names = [];
    const steps = [];
    for (const r of members) {
      let used = 0;
      for (const t of r.tensors.filter((t) => t.label.startsWith("step size/"))) {
        for (let c = 0; c < t.shown && used < dashes.length; c++, used++) {
          const values = new Float64Array(r.rows);
          for (let i = 0; i < r.rows; i++) values[i] = t.values[i * t.shown + c];
          const name = t.size === 1 ? t.param : `${t.param}[${c}]`;
          if (r === members[0]) names.push(name);
          steps.push({ run: r.index, colour: r.colour, label: `${r.name} · ${name}`, steps: r.step, values, dash: dashes[used] });
        }
      }
    }
    const key = names.map((n, i) => `${["solid", "dashed", "dotted", "dash-dot"][i]}: ${n}`).join(", ");
    out.push(new LineChart(parent, { kind: "step-size", yLabel: "−Δθ/∇L", series: steps, robust: true, symlog: true,
                                     caption: `<b>Effective step size</b> per coordinate, −Δθᵢ/∇Lᵢ (${escapeHtml(key)}): ` +
                                              "SGD's is its learning rate; adaptive methods set their own" }, this));
    return out;
  }

  legend(parent, group, members) {
    const aside = htmlEl("aside", { class: "legend" }, parent);
    htmlEl("h3", {}, aside, members.length === 1 ? "Run" : `Runs (${members.length})`);
    for (const r of members) {
      const item = htmlEl("label", { class: "legend-item", "data-run": r.index }, aside);
      const box = htmlEl("input", { type: "checkbox", "data-run": r.index }, item);
      box.checked = true;
      box.addEventListener("change", () => this.setVisible(r.index, box.checked));
      item.addEventListener("mouseenter", () => this.highlight(r.index));
      item.addEventListener("mouseleave", () => this.highlight(null));
      htmlEl("span", { class: "swatch", style: `background:${r.colour}` }, item);
      const text = htmlEl("span", {}, item);
      htmlEl("div", { class: "name" }, text, r.name);
      const status = r.status && r.status !== "FINISHED" ? ` · ${r.status}` : "";
      htmlEl("div", { class: "meta" }, text, `${r.optimizer || "run"} · final loss ${short(r.finalLoss)}${status}`);
    }
    const glyphs = htmlEl("ul", { class: "glyphs" }, aside);
    glyphs.innerHTML = '<li><svg width="18" height="12"><circle cx="9" cy="6" r="4" fill="#fff" stroke="#555" stroke-width="1.6"/></svg>start</li>' +
      '<li><svg width="18" height="12"><circle cx="9" cy="6" r="5" fill="#555"/></svg>the selected step</li>' +
      '<li><svg width="18" height="12"><path d="M1 6H16M12 3L16 6L12 9" stroke="#555" stroke-width="2" fill="none"/></svg>update Δθ</li>' +
      '<li><svg width="18" height="12"><path d="M1 6H16M12 3L16 6L12 9" stroke="#555" stroke-width="1.6" stroke-dasharray="4 3" fill="none"/></svg>−lr·∇L (gradient descent\'s step)</li>' +
      '<li><svg width="18" height="12"><path d="M5 2L13 10M5 10L13 2" stroke="#1f2933" stroke-width="2"/></svg>known minimum</li>';
  }

  controls() {
    const slider = document.getElementById("step");
    slider.max = this.steps.length - 1;
    slider.addEventListener("input", () => this.setIndex(Number(slider.value)));
    this.playButton = document.getElementById("play");
    this.playButton.addEventListener("click", () => (this.timer ? this.pause() : this.play()));
    this.speed = document.getElementById("speed");
    // the space bar plays and pauses, the arrow keys step (when no other control has the focus)
    document.addEventListener("keydown", (event) => {
      const focus = document.activeElement;
      if (focus && ["INPUT", "SELECT", "BUTTON"].includes(focus.tagName)) return;
      if (event.key === " ") { event.preventDefault(); this.timer ? this.pause() : this.play(); }
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        event.preventDefault();
        const next = Number(slider.value) + (event.key === "ArrowRight" ? 1 : -1);
        this.setIndex(Math.min(this.steps.length - 1, Math.max(0, next)));
      }
    });
  }

  play() {
    const slider = document.getElementById("step");
    if (Number(slider.value) >= this.steps.length - 1) this.setIndex(0);
    this.playButton.innerHTML = "&#10074;&#10074; Pause";
    let position = Number(slider.value), last = performance.now();
    const tick = (now) => {
      const perSecond = Math.max(this.steps.length / 8, 4) * Number(this.speed.value);  // a whole run in about 8 s
      position = Math.min(this.steps.length - 1, position + ((now - last) / 1000) * perSecond);
      last = now;
      this.setIndex(Math.floor(position));
      if (position >= this.steps.length - 1) { this.pause(); return; }
      this.timer = requestAnimationFrame(tick);
    };
    this.timer = requestAnimationFrame(tick);
  }

  pause() {
    if (this.timer) cancelAnimationFrame(this.timer);
    this.timer = null;
    this.playButton.innerHTML = "&#9654; Play";
  }

  selectStep(step) {
    this.setIndex(lastRowAtOrBefore(this.steps, step));
  }

  setIndex(index) {
    const slider = document.getElementById("step");
    slider.value = index;
    const step = this.steps[index];
    document.getElementById("step-label").textContent =
      `step ${step} of ${this.steps[0]}–${this.steps[this.steps.length - 1]}`;
    for (const view of this.views) view.setStep(step);
    for (const readout of this.readouts) readout.setStep(step);
    document.body.dataset.step = step;
  }

  // Hovering a run in the legend fades the others, so one path stands out among many.
  highlight(index) {
    for (const el of document.querySelectorAll("svg [data-run]")) {
      el.classList.toggle("faded", index !== null && Number(el.getAttribute("data-run")) !== index);
    }
  }

  setVisible(index, visible) {
    this.visible[index] = visible;
    for (const view of this.views) view.setVisible(index, visible);
    for (const readout of this.readouts) readout.setVisible(index, visible);
    for (const item of document.querySelectorAll(`.legend-item[data-run="${index}"]`)) item.classList.toggle("off", !visible);
    this.selectStep(document.body.dataset.step ? Number(document.body.dataset.step) : this.steps[0]);
  }
}

// The values of every run at the selected step, exact as recorded: a column per run, a row per quantity.
class Readout {
  constructor(parent, group, members, app) {
    this.members = members; this.app = app;
    const wrap = htmlEl("div", { class: "readout-wrap" }, parent);
    const table = htmlEl("table", { class: "readout" }, wrap);
    const head = htmlEl("tr", {}, htmlEl("thead", {}, table));
    htmlEl("th", {}, head, "at the selected step");
    for (const r of members) {
      const th = htmlEl("th", { "data-run": r.index }, head);
      htmlEl("span", { class: "swatch", style: `background:${r.colour};display:inline-block;vertical-align:-2px;margin-right:6px` }, th);
      th.appendChild(document.createTextNode(r.name));
    }
    this.body = htmlEl("tbody", {}, table);
    this.cells = [];
    const loss = group.minibatches ? "loss (the step's minibatch)" : "loss";
    this.row("recorded step", (r, i) => String(r.step[i]));
    this.row(loss, (r, i) => exact(r.loss[i], false));
    if (group.minibatches) {
      this.row("loss over the full data", (r, i) => {
        if (!r.fullStep) return "—";
        const row = lastRowAtOrBefore(r.fullStep, r.step[i]);
        return exact(r.fullLoss[row], false) + (r.fullStep[row] !== r.step[i] ? `  (at step ${r.fullStep[row]})` : "");
      });
    }
    this.row("learning rate", (r, i) => (r.lr ? exact(r.lr[i], false) : "—"));
    this.row("cos(−∇L, Δθ)", (r, i) => short(r.cos[i]));
    const labels = [];
    for (const r of members) for (const t of r.tensors) if (!labels.includes(t.label)) labels.push(t.label);
    for (const label of labels) {
      const kind = label.slice(0, label.lastIndexOf("/"));
      this.row(label, (r, i) => this.tensorText(r, label, i), DESCRIPTIONS[kind] || "optimizer state");
    }
  }

  row(label, text, what) {
    const tr = htmlEl("tr", {}, this.body);
    const th = htmlEl("th", {}, tr, label);
    if (what) htmlEl("span", { class: "what" }, th, what);
    for (const r of this.members) this.cells.push([htmlEl("td", { "data-run": r.index }, tr), r, text]);
  }

  tensorText(r, label, i) {
    const t = r.tensors.find((x) => x.label === label);
    if (!t) return "—";
    const single = r.single || label.startsWith("step size/");  // derived step sizes are kept as float32
    const values = [];
    for (let c = 0; c < t.shown; c++) values.push(exact(t.values[i * t.shown + c], single));
    let text = t.size === 1 ? values[0] : `[${values.join(", ")}${t.size > t.shown ? ", …" : ""}]`;
    if (t.norm) text += `  ‖·‖ = ${short(t.norm[i])} (first ${t.shown} of ${t.size})`;
    return text;
  }

  setStep(step) {
    for (const [td, r, text] of this.cells) td.textContent = text(r, lastRowAtOrBefore(r.step, step));
  }

  setVisible(index, visible) {
    for (const [td, r] of this.cells) if (r.index === index) td.classList.toggle("hidden-run", !visible);
    for (const th of this.body.parentElement.querySelectorAll(`thead th[data-run="${index}"]`)) th.classList.toggle("hidden-run", !visible);
  }
}

window.explorer = new Explorer(JSON.parse(document.getElementById("explorer-data").textContent));
document.body.dataset.ready = "true";
