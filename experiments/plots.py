"""Figures of runs (matplotlib's Agg backend: no display needed): loss curves, and for objectives of two
coordinates the loss contour with the paths drawn on it. Used for single runs and for sweep comparisons.

What they keep true: legends sit right of the axes, never over a curve or a path; the contour's two parameter axes
share one scale (a circle looks round, a valley keeps its angle); a log loss axis is labelled in plain numbers (1,
3, 10, 0.1), its minor ticks only when the losses span less than a decade.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

GRID = 60
REFERENCE_STYLES = (("black", "--"), ("dimgray", ":"), ("black", "-."), ("dimgray", (0, (5, 1, 1, 1))))
LEGEND_OUTSIDE = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=7)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save(figure, path: str | Path) -> Path:
    path = Path(path)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(figure)
    return path


def _positive(values) -> bool:
    finite = [v for v in values if np.isfinite(v)]
    return bool(finite) and min(finite) > 0


def loss_figure(series: Sequence[tuple[str, Sequence[tuple[int, float]]]], bands=None, references=()):
    """One line per ``(label, [(step, loss), ...])``; ``bands`` maps a label to ``(steps, low, high)`` drawn shaded
    (the spread over seeds); ``references`` (:class:`experiments.rates.ReferenceLine`) dashed, in greys, after them.
    Log scale when every loss is positive."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.5))
    all_values = []
    for label, points in series:
        points = [(s, v) for s, v in points if np.isfinite(v) and abs(v) < 1e300]  # MLflow stores inf as 1.8e308
        steps = [s for s, _ in points]
        values = [v for _, v in points]
        all_values += values
        (line,) = axes.plot(steps, values, label=label, linewidth=1.2)
        if bands and label in bands:
            band_steps, low, high = bands[label]
            axes.fill_between(band_steps, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    for reference, (color, dashes) in zip(references, REFERENCE_STYLES):
        axes.plot(reference.steps, reference.losses, color=color, linestyle=dashes, linewidth=1.1,
                  label=reference.label)
        all_values += [float(v) for v in reference.losses]
    if _positive(all_values):
        axes.set_yscale("log")
        readable_log_ticks(axes.yaxis, min(all_values), max(all_values))
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    if len(series) <= 12:
        axes.legend(**LEGEND_OUTSIDE)
    elif references:  # too many runs to name, but the theory lines still need theirs
        axes.legend(handles=axes.get_lines()[-len(references):], **LEGEND_OUTSIDE)
    axes.grid(alpha=0.3)
    axes.grid(alpha=0.12, which="minor")
    return figure


def plain_number(value: float) -> str:
    """A tick label without TeX: ``1``, ``0.5``, ``3``, ``20000``; ``1e-5`` and ``3e6`` beyond those."""
    if value == 0:
        return "0"
    if 1e-4 <= abs(value) < 1e5:
        return np.format_float_positional(float(f"{value:.4g}"), trim="-")
    mantissa, exponent = f"{value:.2g}".split("e")
    return f"{mantissa}e{int(exponent)}"


def readable_log_ticks(axis, low: float, high: float) -> None:
    """Plain labels on a log axis spanning ``low..high``: powers of ten labelled over a decade or more (the 2..9
    multiples between them marked, unlabelled); under a decade the 2, 3 and 5 multiples labelled too; under a
    factor of 2, evenly spaced values (no power of ten or 2/3/5 multiple may fall inside)."""
    from matplotlib import ticker

    plain = ticker.FuncFormatter(lambda value, _: plain_number(value))
    decades = np.log10(high / low) if high > low else 0.0
    if decades < np.log10(2):
        axis.set_major_locator(ticker.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(plain)
        axis.set_minor_locator(ticker.NullLocator())
        return
    axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0,) if decades >= 1 else (1.0, 2.0, 3.0, 5.0)))
    axis.set_major_formatter(plain)
    axis.set_minor_locator(ticker.LogLocator(base=10, subs=tuple(float(k) for k in range(2, 10))))
    axis.set_minor_formatter(ticker.NullFormatter())


def coordinates(params: dict) -> list[tuple[str, tuple]] | None:
    """``[(name, shape), ...]`` when the parameters hold exactly two numbers (one 2-vector or two scalars)."""
    layout = [(name, tuple(t.shape) if hasattr(t, "shape") else np.shape(t)) for name, t in params.items()]
    sizes = [int(np.prod(shape)) for _, shape in layout]
    return layout if sum(sizes) == 2 else None


def contour_grid(objective, params: dict, paths: Sequence[np.ndarray] = ()):
    """``(xs, ys, losses)`` over the objective's ``plot_bounds`` (or a window around the paths), else None."""
    import autodiff as ad

    from .explorer.landscape import true_loss

    layout = coordinates(params)
    if layout is None:
        return None
    bounds = getattr(objective, "plot_bounds", None)
    if bounds is None:
        points = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in paths]) if len(paths) else None
        if points is None or not np.isfinite(points).all():
            return None
        low, high = points.min(axis=0), points.max(axis=0)
        pad = np.maximum(0.25 * (high - low), 0.5)
        bounds = ((low[0] - pad[0], high[0] + pad[0]), (low[1] - pad[1], high[1] + pad[1]))
    loss = true_loss(objective)  # the full-data loss, not a step's minibatch
    xs = np.linspace(*bounds[0], GRID)
    ys = np.linspace(*bounds[1], GRID)
    losses = np.empty((GRID, GRID))
    with ad.no_grad():
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                values = iter((x, y))
                point = {}
                for name, shape in layout:
                    size = int(np.prod(shape))
                    point[name] = ad.tensor(np.array([next(values) for _ in range(size)]).reshape(shape),
                                            dtype=ad.float64)
                losses[i, j] = float(loss(point).item())
    return xs, ys, losses


def contour_figure(grid, paths: Sequence[tuple[str, np.ndarray]], objective=None):
    """The loss contour with each ``(label, (k, 2) array)`` path drawn on it, start and end marked."""
    plt = _pyplot()
    xs, ys, losses = grid
    figure, axes = plt.subplots(figsize=(6.5, 5.5))
    finite = losses[np.isfinite(losses)]
    shifted = losses - (finite.min() if finite.size else 0.0)
    # log-spaced levels show the valleys of functions like Rosenbrock's
    levels = np.quantile(np.log1p(shifted[np.isfinite(shifted)]), np.linspace(0, 1, 30)) if finite.size else 30
    axes.contourf(xs, ys, np.log1p(shifted), levels=np.unique(levels) if np.ndim(levels) else levels,
                  cmap="viridis", alpha=0.8)
    for label, path in paths:
        path = np.asarray(path, dtype=np.float64).reshape(-1, 2)
        (line,) = axes.plot(path[:, 0], path[:, 1], ".-", markersize=2, linewidth=1, label=label)
        axes.plot(path[0, 0], path[0, 1], "o", color=line.get_color())
        axes.plot(path[-1, 0], path[-1, 1], "*", color=line.get_color(), markersize=10)
    for optimum in getattr(objective, "optima", None) or []:
        point = np.concatenate([np.ravel(v) for v in optimum.values()])
        if point.size == 2:
            axes.plot(point[0], point[1], "x", color="red", markersize=9)
    axes.set_xlim(xs[0], xs[-1])
    axes.set_ylim(ys[0], ys[-1])
    axes.set_aspect("equal", adjustable="box")  # both axes are parameters: one unit is one unit
    axes.set_title("log(1 + loss - min) and the paths")
    if len(paths) <= 12:
        axes.legend(**LEGEND_OUTSIDE)
    return figure
