"""A study's figures: the performance profiles (held out, tuned and default) and the learning-rate sensitivity."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from .. import plots
from . import profiles

TITLES = {"tuned": "tuned learning rate", "default": "default learning rate",
          "held_out": "chosen learning rate, held-out seeds"}
DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))


def profile_figure(ratios_by_setting: Mapping[str, Mapping[str, Mapping[str, float]]],
                   scores: Mapping[tuple[str, str], float], tau_max: float = profiles.TAU_MAX):
    """One panel per setting (held_out first when the study has re-runs, then tuned, default): rho_s(tau) as steps
    on a log tau axis, one line per optimizer (each its own dash, so lines on one level stay apart), its score in
    the legend; out to the largest finite ratio, the score's range [1, tau_max] shaded."""
    from matplotlib import ticker

    plt = plots._pyplot()
    settings = list(ratios_by_setting)
    figure, axes_row = plt.subplots(1, len(settings), figsize=(5.2 * len(settings), 4.2), sharey=True, squeeze=False)
    right = tau_right(ratios_by_setting, tau_max)
    for axes, setting in zip(axes_row[0], settings):
        ratios = ratios_by_setting[setting]
        taus = np.unique(np.concatenate([profiles.tau_grid(ratios, right), [right]]))
        for k, optimizer in enumerate(profiles.optimizers_of(ratios)):
            rho = profiles.profile(ratios, optimizer, taus)
            axes.step(taus, rho, where="post", linewidth=1.8, linestyle=DASHES[k % len(DASHES)],
                      label=f"{optimizer} (score {scores[(setting, optimizer)]:.2f})")
        axes.axvspan(1.0, tau_max, color="0.92", zorder=0)
        axes.set_xscale("log", base=2)
        axes.set_xlim(1.0, right)
        axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: plots.plain_number(value)))
        axes.set_ylim(-0.03, 1.03)
        axes.set_xlabel("τ (steps to target / the fastest optimizer's)")
        axes.set_title(f"{TITLES.get(setting, setting)}, {len(ratios)} objectives",
                       fontsize=9)
        axes.grid(alpha=0.3)
        axes.legend(loc="lower right", fontsize=8)
    axes_row[0][0].set_ylabel("ρ(τ): share of objectives within τ of the fastest")
    figure.suptitle("Performance profiles (Dolan–Moré); shaded: the score's range, τ ≤ 4", fontsize=11)
    figure.tight_layout()
    return figure


def tau_right(ratios_by_setting: Mapping[str, Mapping[str, Mapping[str, float]]],
              tau_max: float = profiles.TAU_MAX) -> float:
    """The right end of the profiles' tau axis: past the largest finite ratio of any setting, and past tau_max."""
    finite = [x for by_setting in ratios_by_setting.values() for by in by_setting.values() for x in by.values()
              if math.isfinite(x)]
    return max([tau_max, *finite]) * 1.15


def sensitivity_figure(trials: Sequence):
    """Final loss against learning rate (log axes), one panel per objective, one line per optimizer (the median
    over seeds) with a band from the lowest to the highest seed; a run without a finite final loss (it diverged)
    leaves its learning rate out of the line, and the panel says how many."""
    plt = plots._pyplot()
    objectives = sorted({t.objective for t in trials})
    figure, axes_row = plt.subplots(1, len(objectives), figsize=(4.6 * len(objectives), 4.0), squeeze=False)
    for axes, objective in zip(axes_row[0], objectives):
        mine = [t for t in trials if t.objective == objective]
        diverged = sum(not math.isfinite(t.final_loss) for t in mine)
        drawn = []
        for optimizer in sorted({t.optimizer for t in mine}):
            lrs, mid, low, high = over_seeds([t for t in mine if t.optimizer == optimizer])
            if not lrs:
                continue
            drawn += low + high
            (line,) = axes.plot(lrs, mid, marker="o", markersize=3, linewidth=1.3, label=optimizer)
            axes.fill_between(lrs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
            default = [t.lr for t in mine if t.optimizer == optimizer and t.is_default]
            if default:
                axes.axvline(default[0], color=line.get_color(), linewidth=0.6, linestyle=":")
        axes.set_xscale("log")
        _loss_scale(axes, drawn)
        axes.set_xlabel("learning rate (dotted: the optimizer's default)")
        axes.set_title(objective + (f" ({diverged} runs diverged)" if diverged else ""), fontsize=10)
        axes.grid(alpha=0.3)
    axes_row[0][0].set_ylabel("final loss (median over seeds, band: min to max)")
    axes_row[0][-1].legend(**plots.LEGEND_OUTSIDE)
    figure.tight_layout()
    return figure


def _loss_scale(axes, values: list[float]) -> None:
    """A log loss axis when every loss is positive; when some reach exactly 0 (a quadratic solved to the last
    bit), symmetric log: linear below the smallest positive loss, so 0 is drawn as 0."""
    positive = [v for v in values if v > 0]
    if not positive or min(values) < 0:
        return
    if min(values) > 0:
        axes.set_yscale("log")
        plots.readable_log_ticks(axes.yaxis, min(values), max(values))
    else:
        low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
        axes.set_yscale("symlog", linthresh=10.0 ** low)
        axes.set_ylim(bottom=0)
        stride = max(1, math.ceil((high - low) / 5))
        ticks = [0.0] + [10.0 ** e for e in range(high, low - 1, -stride)][::-1]
        axes.set_yticks(ticks, [plots.plain_number(t) for t in ticks])
        axes.minorticks_off()


def over_seeds(trials: Sequence, value=lambda t: t.final_loss, key=lambda t: t.lr):
    """(keys, median, min, max of the finite values over seeds), by increasing key (the learning rate, or its
    factor); a key none of whose trials has a finite value is left out."""
    by_key: dict[float, list[float]] = {}
    for t in trials:
        v = value(t)
        if math.isfinite(v) and abs(v) < 1e300:  # MLflow stores inf as 1.8e308
            by_key.setdefault(key(t), []).append(v)
    keys = sorted(by_key)
    return (keys, [float(np.median(by_key[x])) for x in keys], [min(by_key[x]) for x in keys],
            [max(by_key[x]) for x in keys])
