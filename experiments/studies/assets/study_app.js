"use strict";
// The page: a tab per setting over the profiles, a tab per measure over the sensitivity charts, the times table, and
// the selection panel listing runs (name, selectable id, steps to target, lr, seed, a link to the MLflow UI).

const TIME_RULE = {
  tuned: "each seed's fewest steps over the learning-rate trials, median over seeds; listed: each seed's fastest trial",
  default: "the default learning rate's steps, median over seeds; listed: its run on each seed that reached the target",
  held_out: "the chosen learning rate re-run on held-out seeds, median over them; listed: the re-runs that reached it",
};

class Panel {
  constructor(el, runs) {
    this.el = el;
    this.runs = runs;
  }

  clear(title, what) {
    this.el.replaceChildren();
    htmlEl("h4", { class: "selection-title" }, this.el, title);
    if (what) htmlEl("p", { class: "what" }, this.el, what);
  }

  showStep(setting, curve, index, others, choose) {
    const s = curve.steps[index], n = setting.problems.length;
    this.clear(`${curve.name}, ${setting.title}: ρ(${short(s.tau)}) = ${s.problems.length}/${n}`,
               `${fraction(s.problems.length, n)} within ${short(s.tau)}× the fastest optimizer's steps to target.`);
    if (others.length) {
      const also = htmlEl("p", { class: "what also" }, this.el, "The same point of the profile: ");
      for (const [c, i] of others) {
        htmlEl("button", { type: "button", class: "also-button", "data-optimizer": c.name }, also, c.name)
          .addEventListener("click", () => choose(c, i));
      }
    }
    htmlEl("p", { class: "what" }, this.el, `Time: ${TIME_RULE[setting.name] || "median over seeds"}.`);
    const list = htmlEl("div", { class: "problems", "data-setting": setting.name, "data-optimizer": curve.name }, this.el);
    for (const problem of s.problems) this.cell(list, problem, setting.cells[problem][curve.name]);
  }

  cell(parent, problem, cell, heading) {
    const box = htmlEl("div", { class: "problem-runs", "data-problem": problem }, parent);
    const time = cell.time === null ? "never reached" : `${short(cell.time)} steps, ×${short(cell.ratio)} the fastest`;
    htmlEl("h4", {}, box, `${heading || problem}: ${time}`);
    this.table(box, cell.runs);
  }

  showRuns(title, what, ids) {
    this.clear(title, what);
    this.table(this.el, ids);
  }

  table(parent, ids) {
    if (!ids.length) { htmlEl("p", { class: "hint" }, parent, "no run reached the target"); return; }
    const table = htmlEl("table", { class: "runs" }, parent);
    const head = htmlEl("tr", {}, htmlEl("thead", {}, table));
    for (const label of ["run name and id", "steps", "lr", "seed", ""]) htmlEl("th", {}, head, label);
    const body = htmlEl("tbody", {}, table);
    for (const id of ids) {
      const run = this.runs[id];
      const tr = htmlEl("tr", { "data-run": id }, body);
      const name = htmlEl("td", { class: "run-name" }, tr, run.name);
      htmlEl("br", {}, name);
      htmlEl("code", { class: "run-id" }, name, id);
      const steps = run.steps === null ? "never" : String(run.steps);
      htmlEl("td", { class: "num" }, tr, run.status === "FINISHED" ? steps : `${steps} (${run.status.toLowerCase()})`);
      htmlEl("td", { class: "num" }, tr, short(run.lr));
      htmlEl("td", { class: "num" }, tr, String(run.seed));
      const link = htmlEl("td", {}, tr);
      if (run.url) htmlEl("a", { href: run.url, target: "_blank", rel: "noopener" }, link, "MLflow ↗");
    }
  }
}

class StudyPage {
  constructor(data) {
    this.data = data;
    this.runs = data.runs;
    this.panel = new Panel(document.getElementById("selection"), data.runs);
    document.getElementById("title").textContent = data.title;
    document.getElementById("subtitle").textContent = data.subtitle;
    document.getElementById("links-note").textContent = data.links;
    document.getElementById("tau-max").textContent = String(data.tau_max);
    const holder = document.getElementById("profile-charts");
    this.profiles = data.settings.map((s) => new ProfileChart(holder, s, data, this));
    this.tabs("setting-tabs", data.settings.map((s) => [s.name, s.title]), (name) => this.showSetting(name));
    this.tabs("measure-tabs", Object.entries(MEASURES).map(([k, m]) => [k, m.tab]), (name) => this.showMeasure(name));
    this.table = new TimesTable(document.getElementById("times-table"), data, this);
    const notes = document.getElementById("notes");
    for (const note of data.notes) htmlEl("li", {}, notes, note);
    this.showSetting(data.settings[0].name);
    this.showMeasure("loss");
  }

  index(optimizer) { return this.data.optimizers.indexOf(optimizer); }

  colour(optimizer) { return runColour(this.index(optimizer)); }

  tabs(id, entries, choose) {
    const bar = document.getElementById(id);
    for (const [name, label] of entries) {
      const button = htmlEl("button", { type: "button", "data-tab": name, "aria-pressed": "false" }, bar, label);
      button.addEventListener("click", () => choose(name));
    }
  }

  press(id, name) {
    for (const b of document.getElementById(id).querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(b.dataset.tab === name));
    }
  }

  showSetting(name) {
    this.press("setting-tabs", name);
    for (const chart of this.profiles) chart.figure.hidden = chart.setting.name !== name;
  }

  showMeasure(name) {
    this.press("measure-tabs", name);
    const holder = document.getElementById("lr-charts");
    holder.replaceChildren();
    for (const entry of this.data.sensitivity) new LrChart(holder, entry, name, this);
    this.legend(holder);
  }

  legend(holder) {
    const aside = htmlEl("aside", { class: "legend" }, holder);
    htmlEl("h3", {}, aside, "optimizer");
    for (const name of this.data.optimizers) {
      const item = htmlEl("div", { class: "legend-item" }, aside);
      htmlEl("span", { class: "swatch", style: `background:${this.colour(name)}` }, item);
      htmlEl("span", { class: "name" }, item, name);
    }
    htmlEl("div", { class: "meta" }, aside, "dotted: factor 1, each optimizer's default rate; band: min to max over seeds");
  }

  selectStep(setting, curve, index) {
    const chart = this.profiles.find((c) => c.setting === setting);
    this.mark(null);
    chart.mark(curve, index);
    const others = chart.sameDot(curve, index).filter(([c]) => c !== curve);
    this.panel.showStep(setting, curve, index, others, (c, i) => this.selectStep(setting, c, i));
  }

  selectCell(row) {
    this.mark(null);
    this.panel.clear(`${row.optimizer} on ${row.objective}`, `target: ${row.target}`);
    for (const setting of this.data.settings) {
      const cell = (setting.cells[row.objective] || {})[row.optimizer];
      if (cell) this.panel.cell(this.panel.el, row.objective, cell, `${setting.title}`);
    }
    const box = htmlEl("div", { class: "chosen-runs" }, this.panel.el);
    htmlEl("h4", {}, box, `chosen trial: factor ${short(row.chosen.factor)} (lr ${short(row.chosen.lr)})`);
    htmlEl("p", { class: "what" }, box,
           "the factor with the lowest median steps to target over the seeds (then the lowest median final loss)");
    this.panel.table(box, row.chosen.runs);
  }

  // One selected dot on the page at a time (null: none).
  mark(dot) {
    for (const d of document.querySelectorAll(".step-dot.selected, .lr-dot.selected")) d.classList.remove("selected");
    if (dot) dot.classList.add("selected");
  }
}

const study = new StudyPage(JSON.parse(document.getElementById("study-data").textContent));
document.body.dataset.ready = "true";  // drawn: what a test (or MLflow's viewer check) waits for
