"use strict";
// The landscape of a group: the true loss over its plane (banded shades and contour lines), every run's path, a
// marker per run at the selected step, and there the update the optimizer made and the step plain gradient descent
// would have made (-lr * gradient), as arrows.

class Landscape {
  constructor(parent, group, runs, app) {
    this.group = group; this.runs = runs; this.app = app;
    const size = 440, left = 60, bottom = 46;
    this.box = { x: left, y: 10, w: size, h: size };
    this.figure = htmlEl("figure", { class: "landscape" }, parent);
    const width = left + size + 14, height = size + bottom + 10;
    this.svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "landscape-svg" }, this.figure);
    const [x0, x1, y0, y1] = group.window;
    const { x, y, w, h } = this.box;
    this.sx = linearScale(x0, x1, x, x + w);
    if (group.kind === "line") this.lineScale();
    else this.sy = linearScale(y0, y1, y + h, y);
    this.grid = decodeArray(group.grid);
    const labels = group.kind === "line" ? [group.axes[0], "loss"] : group.axes;
    drawAxes(this.svg, this.box, this.sx, this.sy, labels);
    const clip = `clip-landscape-${group.index}`;
    svgEl("rect", { x, y, width: w, height: h }, svgEl("clipPath", { id: clip }, svgEl("defs", {}, this.svg)));
    this.plot = svgEl("g", { "clip-path": `url(#${clip})` }, this.svg);
    if (this.grid && group.kind !== "line") { this.drawShades(); this.drawContours(); }
    if (this.grid && group.kind === "line") this.drawCurve();
    svgEl("rect", { class: "frame", x, y, width: w, height: h }, this.svg);
    this.drawOptima();
    this.paths = {}; this.markers = {}; this.arrows = {};
    // markers and arrows above every path, clipped to the plot like them (a run that left the window leaves it)
    this.overlay = svgEl("g", { "clip-path": `url(#${clip}-overlay)` }, this.svg);
    svgEl("rect", { x: x - 6, y: y - 6, width: w + 12, height: h + 12 },
          svgEl("clipPath", { id: `${clip}-overlay` }, this.svg.querySelector("defs")));
    for (const index of group.runs) this.drawRun(index);
    this.scaleLabel = svgEl("text", { x: x + w - 6, y: y + h - 8, "text-anchor": "end", class: "arrow-scale" }, this.svg);
    this.caption = htmlEl("figcaption", {}, this.figure);
    this.listen();
  }

  lineScale() {
    const [lo, hi] = this.group.curve_y || [0, 1];
    const { y, h } = this.box, pad = (hi - lo) * 0.06 || 1;
    this.sy = lo > 0 && hi / lo > 100 ? logScale(lo / 1.5, hi * 1.5, y + h, y) : linearScale(lo - pad, hi + pad, y + h, y);
  }

  valueAt(px, py) {  // the loss at a point of the plane, interpolated between the grid's values
    const n = this.group.size, [x0, x1, y0, y1] = this.group.window;
    const fx = ((px - x0) / (x1 - x0)) * (n - 1), fy = ((py - y0) / (y1 - y0)) * (n - 1);
    if (!(fx >= 0 && fy >= 0 && fx <= n - 1 && fy <= n - 1)) return NaN;
    const j = Math.min(Math.floor(fx), n - 2), i = Math.min(Math.floor(fy), n - 2), tx = fx - j, ty = fy - i;
    const g = this.grid, a = g[i * n + j], b = g[i * n + j + 1], c = g[(i + 1) * n + j + 1], d = g[(i + 1) * n + j];
    return (a * (1 - tx) + b * tx) * (1 - ty) + (d * (1 - tx) + c * tx) * ty;
  }

  band(value) {
    const levels = this.group.levels;
    if (!Number.isFinite(value)) return -1;
    let k = 0;
    while (k < levels.length && value > levels[k]) k++;
    return k / Math.max(1, levels.length);
  }

  drawShades() {
    const { x, y, w, h } = this.box, scale = 2;
    const canvas = document.createElement("canvas");
    canvas.width = w * scale; canvas.height = h * scale;
    const context = canvas.getContext("2d"), image = context.createImageData(canvas.width, canvas.height);
    for (let r = 0; r < canvas.height; r++) {
      const py = this.sy.invert(y + (r + 0.5) / scale);
      for (let c = 0; c < canvas.width; c++) {
        const t = this.band(this.valueAt(this.sx.invert(x + (c + 0.5) / scale), py));
        const [red, green, blue] = t < 0 ? [255, 255, 255] : rampColour(t);
        const o = (r * canvas.width + c) * 4;
        image.data[o] = red; image.data[o + 1] = green; image.data[o + 2] = blue; image.data[o + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
    svgEl("image", { x, y, width: w, height: h, href: canvas.toDataURL("image/png"), preserveAspectRatio: "none",
                     class: "shades" }, this.plot);
  }

  drawContours() {  // marching squares on the grid, one SVG path per level
    const n = this.group.size, g = this.grid, [x0, x1, y0, y1] = this.group.window;
    const px = (j) => this.sx(x0 + (j / (n - 1)) * (x1 - x0)), py = (i) => this.sy(y0 + (i / (n - 1)) * (y1 - y0));
    for (const level of this.group.levels) {
      let d = "";
      for (let i = 0; i < n - 1; i++) {
        for (let j = 0; j < n - 1; j++) {
          const corners = [[j, i], [j + 1, i], [j + 1, i + 1], [j, i + 1]].map(([cj, ci]) => [cj, ci, g[ci * n + cj]]);
          const hits = [];
          for (let e = 0; e < 4; e++) {
            const [aj, ai, av] = corners[e], [bj, bi, bv] = corners[(e + 1) % 4];
            if (!Number.isFinite(av) || !Number.isFinite(bv) || (av > level) === (bv > level)) continue;
            const t = (level - av) / (bv - av);
            hits.push([px(aj + t * (bj - aj)), py(ai + t * (bi - ai))]);
          }
          for (let k = 0; k + 1 < hits.length; k += 2) {
            d += `M${hits[k][0].toFixed(1)},${hits[k][1].toFixed(1)}L${hits[k + 1][0].toFixed(1)},${hits[k + 1][1].toFixed(1)}`;
          }
        }
      }
      if (d) svgEl("path", { class: "contour", d }, this.plot);
    }
  }

  drawCurve() {
    const n = this.grid.length, [x0, x1] = this.group.window, points = [];
    for (let j = 0; j < n; j++) points.push([this.sx(x0 + (j / (n - 1)) * (x1 - x0)), this.sy(this.grid[j])]);
    svgEl("path", { class: "contour", d: pathData(points), style: "stroke-width:1.6" }, this.plot);
  }

  drawOptima() {
    for (const [ox, oy] of this.group.optima || []) {
      const cx = this.sx(ox), cy = this.sy(oy), r = 5;
      if (!(cx >= this.box.x && cx <= this.box.x + this.box.w && cy >= this.box.y && cy <= this.box.y + this.box.h)) continue;
      svgEl("path", { class: "optimum", d: `M${cx - r},${cy - r}L${cx + r},${cy + r}M${cx - r},${cy + r}L${cx + r},${cy - r}` },
            this.svg);
    }
  }

  screen(run, row) {
    return [this.sx(run.pos[2 * row]), this.sy(run.pos[2 * row + 1])];
  }

  drawRun(index) {
    const run = this.runs[index], colour = run.colour, keep = thinIndices(null, run.rows, 1500);
    const points = keep.map((row) => this.screen(run, row));
    const d = pathData(points);
    const layer = svgEl("g", { "data-run": index, class: "run-layer" }, this.plot);
    svgEl("path", { class: "casing", d }, layer);
    this.paths[index] = svgEl("path", { class: "path", d, stroke: colour, "data-run": index }, layer);
    this.paths[index].drawn = keep;
    const [sx, sy] = this.screen(run, 0);
    svgEl("circle", { class: "start", cx: sx, cy: sy, r: 4, stroke: colour }, layer);
    const arrows = svgEl("g", { class: "arrows", "data-run": index }, this.overlay);
    this.arrows[index] = {
      descent: svgEl("path", { fill: "none", stroke: colour, "stroke-width": 1.6, "stroke-dasharray": "4 3", opacity: 0.9 }, arrows),
      update: svgEl("path", { fill: "none", stroke: colour, "stroke-width": 2.2 }, arrows),
    };
    this.markers[index] = svgEl("circle", { class: "marker", r: 5.5, fill: colour, "data-run": index }, this.overlay);
  }

  arrowPath(x, y, dx, dy) {
    const length = Math.hypot(dx, dy);
    if (!(length > 0.5) || !Number.isFinite(length)) return "";
    const ux = dx / length, uy = dy / length, head = Math.min(7, length * 0.45);
    const tx = x + dx, ty = y + dy;
    return `M${x.toFixed(1)},${y.toFixed(1)}L${tx.toFixed(1)},${ty.toFixed(1)}` +
      `M${(tx - head * (ux - 0.5 * uy)).toFixed(1)},${(ty - head * (uy + 0.5 * ux)).toFixed(1)}L${tx.toFixed(1)},${ty.toFixed(1)}` +
      `L${(tx - head * (ux + 0.5 * uy)).toFixed(1)},${(ty - head * (uy - 0.5 * ux)).toFixed(1)}`;
  }

  setStep(step) {
    const vectors = [];
    for (const index of this.group.runs) {
      const run = this.runs[index], row = lastRowAtOrBefore(run.step, step);
      const [cx, cy] = this.screen(run, row);
      const marker = this.markers[index];
      marker.setAttribute("cx", Number.isFinite(cx) ? cx : -100);
      marker.setAttribute("cy", Number.isFinite(cy) ? cy : -100);
      marker.dataset.row = row;
      const pixels = (v) => [this.sx(run.pos[2 * row] + v[2 * row]) - cx, this.sy(run.pos[2 * row + 1] + v[2 * row + 1]) - cy];
      vectors.push([index, cx, cy, pixels(run.descent), pixels(run.update)]);
    }
    let longest = 0;
    for (const [index, , , a, b] of vectors) {
      if (!this.app.visible[index]) continue;
      for (const [dx, dy] of [a, b]) { const l = Math.hypot(dx, dy); if (Number.isFinite(l)) longest = Math.max(longest, l); }
    }
    // arrows too short (or too long) to read are drawn magnified (or shrunk) alike, and the page says by how much
    const factor = longest > 0 && longest < 28 ? niceFactor(28 / longest) : longest > 160 ? 1 / niceFactor(longest / 160) : 1;
    for (const [index, cx, cy, descent, update] of vectors) {
      this.arrows[index].descent.setAttribute("d", this.arrowPath(cx, cy, descent[0] * factor, descent[1] * factor));
      this.arrows[index].update.setAttribute("d", this.arrowPath(cx, cy, update[0] * factor, update[1] * factor));
    }
    this.scaleLabel.textContent = factor === 1 ? "" : `arrows drawn ×${Number(factor.toPrecision(2))}`;
  }

  setVisible(index, visible) {
    for (const el of this.svg.querySelectorAll(`[data-run="${index}"]`)) el.classList.toggle("hidden-run", !visible);
  }

  listen() {
    const { x, y, w, h } = this.box;
    const hit = svgEl("rect", { x, y, width: w, height: h, fill: "transparent" }, this.svg);
    this.svg.insertBefore(hit, this.overlay);
    hit.addEventListener("mousemove", (event) => {
      const r = this.svg.getBoundingClientRect(), mx = event.clientX - r.left, my = event.clientY - r.top;
      const px = this.sx.invert(mx), py = this.sy.invert(my), near = this.nearest(mx, my);
      const axes = this.group.kind === "line" ? [this.group.axes[0], "loss"] : this.group.axes;
      let html = `<div><span class="k">${escapeHtml(axes[0])}</span> ${short(px)} &nbsp; <span class="k">${escapeHtml(axes[1])}</span> ${short(py)}</div>`;
      if (this.grid && this.group.kind !== "line") html += `<div><span class="k">loss here</span> ${short(this.valueAt(px, py))}</div>`;
      if (near) {
        const run = this.runs[near.index];
        html += `<div><span style="color:${run.colour}">&#9632;</span> ${escapeHtml(run.name)}: step ${run.step[near.row]}, loss ${short(run.loss[near.row])}</div>`;
      }
      tooltip.show(event, html);
    });
    hit.addEventListener("mouseleave", () => tooltip.hide());
    hit.addEventListener("click", (event) => {
      const r = this.svg.getBoundingClientRect(), near = this.nearest(event.clientX - r.left, event.clientY - r.top);
      if (near) this.app.selectStep(this.runs[near.index].step[near.row]);
    });
  }

  nearest(mx, my) {  // the drawn point of a visible path closest to the mouse, within 9 px
    let best = null, bestDistance = 81;
    for (const index of this.group.runs) {
      if (!this.app.visible[index]) continue;
      const run = this.runs[index];
      for (const row of this.paths[index].drawn) {
        const [px, py] = this.screen(run, row), d = (px - mx) ** 2 + (py - my) ** 2;
        if (d < bestDistance) { bestDistance = d; best = { index, row }; }
      }
    }
    return best;
  }
}

function niceFactor(raw) {
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  return [1, 2, 5, 10].map((m) => m * power).find((f) => f >= raw);
}
