"""The run and comparison figures keep their promises, checked on the drawn figure (matplotlib's renderer): legends
beside the axes, never over the curves or paths; one scale on both parameter axes of the contour; a log loss axis
labelled in plain numbers, its minor ticks labelled only under a decade."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from experiments import plots  # noqa: E402

STEPS = np.arange(100)


def _drawn(figure):
    figure.canvas.draw()
    axes = figure.axes[0]
    return axes, figure.canvas.get_renderer()


def _visible_labels(axes, minor=False):
    low, high = axes.get_ylim()
    return [t.get_text() for t in axes.get_yticklabels(minor=minor)
            if low <= t.get_position()[1] <= high and t.get_text()]


def _loss_axes(*curves):
    series = [(f"run {i}", list(zip(STEPS, curve))) for i, curve in enumerate(curves)]
    return _drawn(plots.loss_figure(series))


def _assert_legend_outside(axes, renderer):
    legend = axes.get_legend()
    assert legend is not None
    box, frame = legend.get_window_extent(renderer), axes.get_window_extent(renderer)
    assert box.x0 >= frame.x1, (box, frame)      # entirely right of the plotting area


def test_the_loss_legend_sits_outside_the_axes():
    axes, renderer = _loss_axes(np.exp(-STEPS / 10.0), 2 * np.exp(-STEPS / 20.0))
    _assert_legend_outside(axes, renderer)


def test_a_wide_log_axis_is_labelled_with_plain_powers_of_ten():
    axes, _ = _loss_axes(1e3 * np.exp(-STEPS / 8.0) + 1e-3)
    labels = _visible_labels(axes)
    assert labels and set(labels) <= {"1e-5", "1e-4", "0.001", "0.01", "0.1", "1", "10", "100", "1000", "1e4"}
    assert {"0.01", "1", "100"} <= set(labels)
    assert not _visible_labels(axes, minor=True)


def test_a_log_axis_under_a_decade_labels_its_2_3_5_multiples():
    axes, _ = _loss_axes(0.2 + 1.3 * np.exp(-STEPS / 30.0))
    labels = _visible_labels(axes)
    assert {"0.3", "0.5", "1"} <= set(labels)
    assert all(float(text) > 0 for text in labels)


def test_a_narrow_log_axis_is_labelled_with_plain_decimals():
    # losses between 3.7 and 3.9: the label once read 3.8 x 10^0
    axes, _ = _loss_axes(3.7 + 0.2 * np.exp(-STEPS / 30.0))
    labels = _visible_labels(axes)
    assert len(labels) >= 2 and all("$" not in t and "times" not in t for t in labels)
    assert {"3.7", "3.8", "3.9"} <= set(labels)


@pytest.mark.parametrize("value, text", [(1.0, "1"), (0.5, "0.5"), (3.0, "3"), (20000.0, "20000"), (0.0001, "0.0001"),
                                         (3.75, "3.75"), (1e-5, "1e-5"), (3e6, "3e6"), (0, "0")])
def test_plain_numbers(value, text):
    assert plots.plain_number(value) == text


class _Bowl:
    plot_bounds = ((-2.0, 2.0), (0.0, 2.0))
    optima = [{"x": np.array([0.0, 1.0])}]

    def loss(self, params, step):
        import autodiff as ad

        x = params["x"]
        return ad.sum((x - ad.tensor([0.0, 1.0], dtype=ad.float64)) ** 2)


def test_the_contour_keeps_one_scale_on_both_parameters_and_its_legend_outside():
    objective = _Bowl()
    path = np.array([[-1.5, 1.8], [-0.5, 1.5], [0.0, 1.0]])
    grid = plots.contour_grid(objective, {"x": np.zeros(2)}, [path])
    axes, renderer = _drawn(plots.contour_figure(grid, [("sgd", path), ("adam", path * 0.5)], objective))
    assert axes.get_aspect() == 1.0
    frame = axes.get_window_extent(renderer)
    assert frame.height / frame.width == pytest.approx(0.5, rel=0.02)    # a 4 x 2 window drawn twice as wide
    _assert_legend_outside(axes, renderer)


def _quadratic_references(curve):
    from experiments import rates
    from experiments.objectives.quadratic import Quadratic

    return rates.reference_lines(Quadratic(dim=2, condition_number=10.0), [list(zip(STEPS, curve))])


def test_the_predicted_rates_are_drawn_labelled_and_never_stretch_the_loss_axis():
    measured = 5.0 * 0.8 ** STEPS  # slower than gradient descent's best step: 0.669 per step
    references = _quadratic_references(measured)
    figure = plots.loss_figure([("sgd", list(zip(STEPS, measured)))], references=references)
    axes, renderer = _drawn(figure)
    labels = [t.get_text() for t in axes.get_legend().get_texts()]
    assert labels[0] == "sgd" and labels[1].startswith("GD bound, best step (κ=10, lr=0.1818): gap x 0.6694^t")
    assert labels[2].startswith("heavy ball rate, best lr=0.2309, momentum=0.2699")
    gd, heavy_ball = axes.get_lines()[1:]
    assert gd.get_linestyle() == "--" and heavy_ball.get_linestyle() == ":"
    assert gd.get_ydata()[0] == 5.0 and min(gd.get_ydata()) >= measured.min() / 10
    assert axes.get_ylim()[0] >= measured.min() / 100  # the lines stop a decade below the lowest measured loss
    _assert_legend_outside(axes, renderer)


def test_the_rates_keep_their_legend_among_too_many_runs_to_name():
    curves = [(f"run {i}", list(zip(STEPS, (1 + i / 10) * 0.9 ** STEPS))) for i in range(15)]
    figure = plots.loss_figure(curves, references=_quadratic_references(1.5 * 0.9 ** STEPS))
    axes, renderer = _drawn(figure)
    labels = [t.get_text() for t in axes.get_legend().get_texts()]
    assert len(labels) == 2 and labels[0].startswith("GD bound") and labels[1].startswith("heavy ball rate")
    _assert_legend_outside(axes, renderer)
