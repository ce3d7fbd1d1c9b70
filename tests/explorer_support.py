"""Trajectories made by the real optimizers on the real objectives (no MLflow), and the checks every explorer page
passes in headless Chromium: a path per run, the slider moving the markers, a run hidden by its toggle, the readout
showing the optimizer's state keys."""

from __future__ import annotations

import numpy as np


def trajectory(optimizer: str, objective_cfg: dict, steps: int, lr: float, dtype: str = "float32") -> dict:
    """The arrays ``trajectory.npz`` would hold for ``optimizer`` on the objective, recorded as the runner does."""
    import autodiff as ad
    from plugin_registry import OPTIMIZERS

    from experiments import objectives, recording
    from experiments.trajectory import TrajectoryBuffer

    objective = objectives.build(dict(objective_cfg))
    kind = {"float32": ad.float32, "float64": ad.float64}[dtype]
    params = {n: ad.tensor(v, dtype=kind, requires_grad=True) for n, v in objective.initial_params().items()}
    opt = OPTIMIZERS.create(optimizer, list(params.values()), lr=lr)
    names = {id(t): n for n, t in params.items()}
    buffer = TrajectoryBuffer()
    for step in range(steps):
        opt.zero_grad()
        loss = objective.loss(params, step)
        loss.backward()
        before = {f"param/{n}": t.numpy(force=True).copy() for n, t in params.items()}
        grads = {f"grad/{n}": t.grad.numpy(force=True).copy() for n, t in params.items()}
        opt.step()
        buffer.add(step, float(loss.item()), {**before, **grads, "lr": np.float64(lr),
                                              **recording.optimizer_state_arrays(opt, names)})
    with ad.no_grad():
        final = float(objective.loss(params, steps).item())
    buffer.add(steps, final, {f"param/{n}": t.numpy(force=True) for n, t in params.items()})
    return buffer.arrays()


def run(name: str, optimizer: str, objective_cfg: dict, steps: int, lr: float, dtype: str = "float32"):
    from experiments.explorer import RunTrajectory

    return RunTrajectory(f"id-{name}", name, trajectory(optimizer, objective_cfg, steps, lr, dtype),
                         objective_cfg=dict(objective_cfg), optimizer=optimizer)


def markers(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all("circle.marker",
                                     "els => els.map(e => [e.getAttribute('cx'), e.getAttribute('cy')])")


def check_page(page, runs: int, state_keys: list[str], panels: int = 1) -> None:
    """The page drew a path per run, moves every marker with the slider, hides a run toggled off, reads out the
    state keys."""
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("section.group").count() == panels
    assert page.locator("path.path").count() == runs
    for d in page.eval_on_selector_all("path.path", "els => els.map(e => e.getAttribute('d'))"):
        assert d.count("L") >= 1, d[:80]
    assert page.locator("circle.marker").count() == runs
    assert page.locator("section.group image.shades").count() >= 1  # a landscape was drawn
    before = markers(page)
    slider = page.locator("#step")
    last = int(slider.get_attribute("max"))
    slider.fill(str(last // 2))
    middle = markers(page)
    assert all(a != b for a, b in zip(before, middle)), (before, middle)
    assert page.locator("#step-label").inner_text().startswith("step ")
    readout = page.locator("table.readout").first.inner_text()
    for key in state_keys:
        assert key in readout, (key, readout[:500])
    assert page.locator("path.path[data-run='0']").is_visible()
    page.locator("aside.legend input[data-run='0']").uncheck()
    assert not page.locator("path.path[data-run='0']").is_visible()
    assert not page.locator("circle.marker[data-run='0']").is_visible()
    if runs > 1:
        assert page.locator("path.path[data-run='1']").is_visible()
    page.locator("aside.legend input[data-run='0']").check()
    assert page.locator("path.path[data-run='0']").is_visible()
    page.locator("#play").click()
    page.wait_for_function(f"Number(document.getElementById('step').value) !== {last // 2}")
    page.locator("#play").click()
