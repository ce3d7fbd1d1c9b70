"""study.html (experiments/studies/page.py): a study's report on one interactive page. The profiles, the runs each
profile step lists and the chosen trials are checked against times worked out by hand from the trials, in headless
Chromium; a tiny real study attaches the page to its parent run and ``python -m experiments.study`` writes it again."""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
from pathlib import Path

import pytest

from experiments.studies.page import study_page
from experiments.studies.report import analyse
from experiments.studies.results import Trial
from support.browser import open_page

INF = math.inf
URI = "sqlite:////tmp/study/mlflow.db"
# Steps to target of each (objective, optimizer) at learning-rate factors 0.1, 1, 10, on seeds (0, 1).
STEPS = {
    ("bowl", "adam"): {0.1: (40, 44), 1.0: (20, 22), 10.0: (INF, INF)},
    ("bowl", "sgd"): {0.1: (INF, INF), 1.0: (60, 60), 10.0: (30, 30)},
    ("bowl", "lion"): {0.1: (21, 21), 1.0: (21, INF), 10.0: (INF, INF)},  # seed 0: two trials tie at 21
    ("valley", "adam"): {0.1: (100, 120), 1.0: (INF, INF), 10.0: (INF, INF)},
    ("valley", "sgd"): {0.1: (INF, INF), 1.0: (INF, INF), 10.0: (INF, INF)},
    ("valley", "lion"): {0.1: (0, 0), 1.0: (5, 5), 10.0: (INF, INF)},  # 0 steps: the start on target, counts as 1
    ("ridge", "adam"): {0.1: (INF, INF), 1.0: (50, 70), 10.0: (INF, INF)},
    ("ridge", "sgd"): {0.1: (80, 100), 1.0: (90, 200), 10.0: (INF, 150)},
    ("ridge", "lion"): {0.1: (INF, INF), 1.0: (INF, INF), 10.0: (240, 240)},
}
HELD_OUT_STEPS = {("bowl", "adam"): 25, ("bowl", "sgd"): 35, ("bowl", "lion"): INF, ("valley", "adam"): 90,
                  ("valley", "sgd"): INF, ("valley", "lion"): 3, ("ridge", "adam"): 55, ("ridge", "sgd"): 110,
                  ("ridge", "lion"): INF}


def run_id(objective, optimizer, factor, seed, held_out=False):
    return f"{'h' if held_out else 'r'}{objective}{optimizer}{factor:g}s{seed}".replace(".", "p")


def make_trials() -> list[Trial]:
    """The trials results.study_trials would read back from such runs (sorted the same way)."""
    trials = []
    for (objective, optimizer), by_factor in STEPS.items():
        for factor, steps in by_factor.items():
            for seed, s in enumerate(steps):
                final = math.nan if factor == 10.0 and optimizer == "sgd" else 0.5 / (1 + s if math.isfinite(s) else 1)
                trials.append(Trial(run_id(objective, optimizer, factor, seed), f"objective={objective} optimizer="
                                    f"{optimizer} study.lr_factor={factor} seed={seed}", "FINISHED", objective,
                                    optimizer, 0.001 * factor, factor, seed, "loss <= 0.1", s, final, False, "7"))
        chosen = 1.0  # the held-out re-runs' factor plays no part in the held_out setting's times
        trials.append(Trial(run_id(objective, optimizer, chosen, 5, True), f"held out {objective} {optimizer}",
                            "FINISHED", objective, optimizer, 0.001 * chosen, chosen, 5, "loss <= 0.1",
                            HELD_OUT_STEPS[(objective, optimizer)], 0.01, True, "7"))
    return sorted(trials, key=lambda t: (t.objective, t.optimizer, t.lr_factor, t.seed, t.run_id))


# -- what the page must say, worked out plainly from the trials ----------------------------------------------------

def counted(trials, setting, objective, optimizer):
    return [t for t in trials if (t.objective, t.optimizer) == (objective, optimizer)
            and t.held_out == (setting == "held_out") and (setting != "default" or t.lr_factor == 1.0)]


def by_hand(trials, setting):
    """objective -> optimizer -> (time, the ids of each seed's fastest run that reached the target)."""
    out = {}
    for objective, optimizer in {(t.objective, t.optimizer) for t in trials}:
        runs = counted(trials, setting, objective, optimizer)
        best = {seed: min(t.steps_to_target for t in runs if t.seed == seed) for seed in {t.seed for t in runs}}
        time = statistics.median(best.values())
        ids = {t.run_id for t in runs if math.isfinite(t.steps_to_target) and t.steps_to_target == best[t.seed]}
        out.setdefault(objective, {})[optimizer] = (time, ids)
    return out


def points_by_hand(trials, setting):
    """optimizer -> [(tau, the objectives it counts, the runs behind them)] at each step of its profile."""
    times = by_hand(trials, setting)
    ratios = {p: {o: max(t, 1) / min(max(u, 1) for u, _ in by.values()) for o, (t, _) in by.items()}
              for p, by in times.items()}
    out = {}
    for optimizer in {o for by in times.values() for o in by}:
        taus = sorted({by[optimizer] for by in ratios.values() if math.isfinite(by[optimizer])})
        out[optimizer] = [(tau, {p for p, by in ratios.items() if by[optimizer] <= tau},
                           set().union(*(times[p][optimizer][1] for p, by in ratios.items() if by[optimizer] <= tau)))
                          for tau in taus]
    return out


def test_hand_worked_points_of_the_tuned_profile():
    points = points_by_hand(make_trials(), "tuned")
    # bowl: adam 21 (median of 20, 22), sgd 30, lion 21 (seed 0's two trials tie); valley: lion 0 -> 1, adam 110;
    # ridge: adam 60, sgd 90, lion 240.
    assert [(tau, problems) for tau, problems, _ in points["lion"]] == [(1.0, {"bowl", "valley"}),
                                                                       (4.0, {"bowl", "valley", "ridge"})]
    assert points["lion"][0][2] == {run_id("bowl", "lion", 0.1, 0), run_id("bowl", "lion", 1.0, 0),
                                    run_id("bowl", "lion", 0.1, 1), run_id("valley", "lion", 0.1, 0),
                                    run_id("valley", "lion", 0.1, 1)}
    assert [tau for tau, _, _ in points["sgd"]] == [30 / 21, 1.5]
    assert [tau for tau, _, _ in points["adam"]] == [1.0, 110.0]


def page_json(html: str) -> dict:
    text = re.search(r'<script type="application/json" id="study-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(text.replace("<\\/", "</"))


def test_the_page_holds_the_reports_numbers(tmp_path):
    trials = make_trials()
    result = analyse(trials)
    data = page_json(study_page(trials, result, tmp_path / "study.html", URI).read_text())
    assert [s["name"] for s in data["settings"]] == ["held_out", "tuned", "default"]  # the headline first
    for setting in data["settings"]:
        expected = points_by_hand(trials, setting["name"])
        for curve in setting["curves"]:
            assert curve["score"] == result["scores"][(setting["name"], curve["name"])]
            points = expected[curve["name"]]
            assert [s["tau"] for s in curve["steps"]] == pytest.approx([tau for tau, _, _ in points])
            assert [set(s["problems"]) for s in curve["steps"]] == [problems for _, problems, _ in points]
            assert [s["rho"] for s in curve["steps"]] == pytest.approx([len(p) / 3 for _, p, _ in points])
    rows = {(r["objective"], r["optimizer"]): r for r in data["table"]}
    assert rows[("bowl", "lion")]["chosen"]["factor"] == 0.1  # median 21 beats factor 1's median (21, inf) = inf
    assert rows[("ridge", "sgd")]["chosen"]["factor"] == 0.1  # median 90 beats 145 and (inf, 150)
    assert data["runs"][run_id("ridge", "sgd", 0.1, 0)]["url"] == (
        f"http://127.0.0.1:5000/#/experiments/7/runs/{run_id('ridge', 'sgd', 0.1, 0)}?workflowType=machine_learning")
    html = (tmp_path / "study.html").read_text()
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=', html)  # self-contained: nothing fetched


def listed(page) -> tuple[set[str], set[str]]:
    """The objectives and run ids the selection panel lists."""
    problems = page.eval_on_selector_all("#selection [data-problem]", "els => els.map(e => e.dataset.problem)")
    runs = page.eval_on_selector_all("#selection tr[data-run]", "els => els.map(e => e.dataset.run)")
    return set(problems), set(runs)


def check_every_point(page, trials, setting: str) -> int:
    """Click every step of every curve of ``setting``; the panel lists what the hand-worked profile says."""
    clicked = 0
    for optimizer, points in points_by_hand(trials, setting).items():
        dots = page.locator(f'figure[data-setting="{setting}"] circle.step-dot[data-optimizer="{optimizer}"]')
        assert dots.count() == len(points), (setting, optimizer)
        for i, (tau, problems, runs) in enumerate(points):
            assert float(dots.nth(i).get_attribute("data-tau")) == pytest.approx(tau)
            dots.nth(i).dispatch_event("click")
            assert listed(page) == (problems, runs), (setting, optimizer, tau)
            clicked += 1
    return clicked


def test_the_page_in_chromium_lists_the_runs_behind_each_profile_point(tmp_path):
    trials = make_trials()
    path = study_page(trials, analyse(trials), tmp_path / "study.html", URI)
    with open_page(path) as page:
        page.wait_for_selector("body[data-ready=true]")
        assert page.locator('figure.profile[data-setting="held_out"]').is_visible()  # the headline shows first
        for setting in ("tuned", "default", "held_out"):
            page.click(f'#setting-tabs button[data-tab="{setting}"]')
            assert page.locator(f'figure.profile[data-setting="{setting}"]').is_visible()
            assert page.locator("figure.profile:visible").count() == 1
            for optimizer in ("adam", "sgd", "lion"):
                curve = page.locator(f'figure[data-setting="{setting}"] g[data-optimizer="{optimizer}"] path.curve')
                box = curve.bounding_box()
                assert box and box["width"] > 300, (setting, optimizer)
            assert check_every_point(page, trials, setting) > 0
        page.click('#setting-tabs button[data-tab="tuned"]')
        lion = page.locator('figure[data-setting="tuned"] circle.step-dot[data-optimizer="lion"][data-index="1"]')
        lion.hover()  # a real pointer: the tooltip names what the step counts
        assert page.locator("#tooltip").is_visible() and "ridge" in page.inner_text("#tooltip")
        lion.click()
        assert listed(page)[0] == {"bowl", "valley", "ridge"}
        row = page.locator(f'#selection tr[data-run="{run_id("ridge", "lion", 10.0, 0)}"]')
        assert row.locator("a").get_attribute("href") == (
            f"http://127.0.0.1:5000/#/experiments/7/runs/{run_id('ridge', 'lion', 10.0, 0)}"
            "?workflowType=machine_learning")
        assert row.locator("code.run-id").evaluate("e => getComputedStyle(e).userSelect") == "all"
        check_one_point_of_two_optimizers(page, trials)
        check_legend_sensitivity_and_table(page, trials)
        page.screenshot(path=str(tmp_path / "study.png"), full_page=True)


def check_one_point_of_two_optimizers(page, trials):
    """adam and lion both reach rho = 2/3 at tau = 1 (tuned), on other objectives: each is listed as its own."""
    points = points_by_hand(trials, "tuned")
    assert points["adam"][0][:2] == (1.0, {"bowl", "ridge"}) and points["lion"][0][:2] == (1.0, {"bowl", "valley"})
    page.locator('figure[data-setting="tuned"] circle.step-dot[data-optimizer="lion"][data-index="0"]').hover()
    tip = page.inner_text("#tooltip")
    assert "adam: bowl, ridge" in tip and "lion: bowl, valley" in tip, tip
    page.mouse.click(*centre(page, 'figure[data-setting="tuned"] circle.step-dot[data-optimizer="lion"][data-index="0"]'))
    assert listed(page) == points["lion"][0][1:]
    page.click('#selection button.also-button[data-optimizer="adam"]')
    assert listed(page) == points["adam"][0][1:]
    # adam's last step (tau 110, rho 1) lies on lion's curve, drawn after it: the dot still takes the pointer
    page.locator('figure[data-setting="tuned"] circle.step-dot[data-optimizer="adam"][data-index="1"]').hover()
    assert "adam: bowl, ridge, valley" in page.inner_text("#tooltip")
    page.focus('figure[data-setting="tuned"] circle.step-dot[data-optimizer="sgd"][data-index="1"]')
    page.keyboard.press("Enter")  # the dots are in the tab order
    assert listed(page) == points["sgd"][1][1:]


def centre(page, selector):
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def check_legend_sensitivity_and_table(page, trials):
    page.click('figure[data-setting="tuned"] label.legend-item[data-optimizer="sgd"] input')
    assert not page.locator('figure[data-setting="tuned"] g[data-optimizer="sgd"] path.curve').is_visible()
    # a line per optimizer per objective; factors where some seed has a final loss (sgd at 10 diverged on both)
    charts = page.locator("#lr-charts figure.lr")
    assert charts.count() == 3
    assert page.locator('#lr-charts circle.lr-dot[data-optimizer="sgd"]').count() == 3 * 2
    page.click('#measure-tabs button[data-tab="steps"]')
    reached = {(t.objective, t.optimizer, t.lr_factor) for t in trials
               if not t.held_out and math.isfinite(t.steps_to_target)}
    assert page.locator("#lr-charts circle.lr-dot").count() == len(reached)
    page.locator('#lr-charts figure[data-objective="ridge"] circle.lr-dot[data-optimizer="sgd"][data-factor="10"]') \
        .dispatch_event("click")
    assert listed(page)[1] == {run_id("ridge", "sgd", 10.0, 0), run_id("ridge", "sgd", 10.0, 1)}
    page.click('#times-table tr[data-objective="ridge"][data-optimizer="sgd"]')
    chosen = page.eval_on_selector_all("#selection .chosen-runs tr[data-run]",
                                       "els => els.map(e => e.dataset.run)")
    assert set(chosen) == {run_id("ridge", "sgd", 0.1, 0), run_id("ridge", "sgd", 0.1, 1)}


def quick_sized_trials() -> list[Trial]:
    """120 trials shaped like study=quick's: 32-hex run ids and override-long run names."""
    import random

    rng = random.Random(0)
    trials = []
    for objective in ("quadratic", "rosenbrock", "logistic_regression"):
        for optimizer in ("sgd", "adam", "rmsprop", "lion"):
            for factor in (0.01, 0.1, 1.0, 10.0, 100.0):
                for seed in (0, 1):
                    steps = rng.choice([INF, float(rng.randint(0, 500))])
                    trials.append(Trial(f"{rng.getrandbits(128):032x}", f"objective={objective} optimizer={optimizer} "
                                        f"study.lr_factor={factor} seed={seed} study=quick", "FINISHED", objective,
                                        optimizer, 0.01 * factor, factor, seed, "loss_gap <= 0.001", steps,
                                        rng.choice([math.nan, 10 ** rng.uniform(-20, 1)]), False, "1"))
    return trials


def test_a_quick_sized_study_page_stays_small(tmp_path):
    trials = quick_sized_trials()
    path = study_page(trials, analyse(trials), tmp_path / "study.html", URI)
    assert path.stat().st_size < 1_000_000
    data = page_json(path.read_text())
    assert len(data["runs"]) == 120 and [s["name"] for s in data["settings"]] == ["tuned", "default"]


def test_runs_without_a_learning_rate_or_a_finite_loss_still_make_a_page(tmp_path):
    """A run whose param optimizer.lr is missing (NaN), that diverged (NaN), or whose loss MLflow stored as its
    largest double: numbers JSON cannot hold are null on the page, and the page is written."""
    trials = [Trial("a", "a", "FAILED", "bowl", "sgd", math.nan, 1.0, 0, "loss <= 1.0", INF, math.nan),
              Trial("b", "b", "FINISHED", "bowl", "adam", 0.001, 1.0, 0, "loss <= 1.0", 3.0, 1.8e308)]
    path = study_page(trials, analyse(trials), tmp_path / "study.html")
    data = page_json(path.read_text())
    assert data["runs"]["a"]["lr"] is None and data["runs"]["b"]["final_loss"] is None
    assert data["runs"]["a"]["url"] is None  # no tracking store given: no links
    with open_page(path) as page:  # and it draws them without a script error
        page.wait_for_selector("body[data-ready=true]")
        page.click('#times-table tr[data-optimizer="sgd"]')
        assert "never (failed)" in page.inner_text('#selection tr[data-run="a"]')
        assert page.locator("#selection tr[data-run] a").count() == 0


# -- a real study ------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_tiny_study_attaches_its_page_and_the_command_writes_it_again(tmp_path):
    from runner_support import client_for, run_cli, sweep

    parent, children, _ = sweep(
        tmp_path, "tiny", "study=quick", "objective=quadratic,rosenbrock", "optimizer=sgd,adam",
        "study.lr_factor=1.0,10.0", "seed=0", "steps=25", "study.targets.quadratic.loss_gap=1.0",
        "~study.targets.rosenbrock.loss_gap", "+study.targets.rosenbrock.loss=4.3", "study.held_out_seeds=[]")
    client = client_for(tmp_path)
    artifacts = Path(client.download_artifacts(parent.info.run_id, "", str(tmp_path / "parent")))
    trials = trials_from_csv(artifacts / "steps_to_target.csv")
    assert len(trials) == 8
    with open_page(artifacts / "study.html") as page:
        page.wait_for_selector("body[data-ready=true]")
        assert check_every_point(page, trials, "tuned") > 0
        a = page.locator("#selection tr[data-run] a").first
        rid = a.evaluate("e => e.closest('tr').dataset.run")
        assert a.get_attribute("href") == (f"http://127.0.0.1:5000/#/experiments/{parent.info.experiment_id}/runs/"
                                           f"{rid}?workflowType=machine_learning")
    run_cli([parent.info.run_id, "--out", str(tmp_path / "again")], tmp_path, module="experiments.study")
    assert page_json((tmp_path / "again" / "study.html").read_text()) == page_json(
        (artifacts / "study.html").read_text())
    check_in_the_artifact_viewer(tmp_path, parent, trials)


def check_in_the_artifact_viewer(store: Path, parent, trials) -> None:
    """MLflow's UI shows the artifact in a sandboxed iframe (scripts only): the page draws and lists runs there."""
    from support.browser import browser
    from support.mlflow_server import MlflowServer

    with MlflowServer(store) as server, browser(offline=False) as context:  # the UI of the sweep's own store
        page = context.new_page()
        page.goto(f"{server.uri}/#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}"
                  "/artifacts/study.html")
        frame = ready_frame(page)
        assert "allow-scripts" in page.eval_on_selector("iframe", "e => e.getAttribute('sandbox')")
        assert frame.locator('figure[data-setting="tuned"] path.curve').count() == 2
        tau, problems, runs = points_by_hand(trials, "tuned")["adam"][-1]
        frame.locator('figure[data-setting="tuned"] circle.step-dot[data-optimizer="adam"]').last.click()
        assert set(frame.eval_on_selector_all("#selection tr[data-run]", "els => els.map(e => e.dataset.run)")) == runs


def ready_frame(page, timeout_ms: int = 60_000):
    """The frame in which the study page has drawn (the viewer loads the artifact after its own page)."""
    for _ in range(timeout_ms // 250):
        for frame in page.frames:
            try:
                if frame.query_selector("body[data-ready=true]"):
                    return frame
            except Exception:  # noqa: BLE001 - a frame navigating away meanwhile
                continue
        page.wait_for_timeout(250)
    raise AssertionError(f"no frame of {page.url} drew the study page: {[f.url for f in page.frames]}")


def trials_from_csv(path: Path) -> list[Trial]:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    return [Trial(r["run_id"], r["run_name"], r["status"], r["objective"], r["optimizer"], float(r["lr"]),
                  float(r["lr_factor"]), int(r["seed"]), r["target"],
                  INF if r["steps_to_target"] == "" else float(r["steps_to_target"]),
                  float(r["final_loss"] or "nan"), r["held_out"] == "true") for r in rows]


@pytest.mark.slow
def test_the_readme_figures_script_writes_its_three_pictures(tmp_path):
    """docs/make_study_figures.py on a small study: the profile, the sensitivity and the page's screenshot."""
    import os
    import subprocess
    import sys

    from runner_support import ROOT

    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    out = subprocess.run([sys.executable, str(ROOT / "docs" / "make_study_figures.py"), "--out-dir", str(tmp_path),
                          "objective=quadratic", "optimizer=sgd,adam", "study.lr_factor=0.1,1.0", "seed=0",
                          "steps=30"], cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
                         timeout=600)
    assert "study=quick" in out.stdout and " s; wrote " in out.stdout
    for name in ("study_profile.png", "study_lr_sensitivity.png", "study_page.png"):
        header = (tmp_path / name).read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n", name
        assert int.from_bytes(header[16:20], "big") > 400, name
