"""The trajectory explorer (experiments/explorer): the landscape (the true, full-data loss; one shared plane for
n-D objectives and the share of the paths' variance it holds), runs on different data in separate panels, exact
readout values, page sizes, and the pages themselves in headless Chromium."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from experiments import explorer, objectives, plots
from experiments.explorer import landscape, payload
from experiments.explorer.runs import RunTrajectory, group_runs
from explorer_support import check_page, run
from support.browser import open_page

ROSENBROCK = {"name": "rosenbrock", "dim": 2, "init": None}
LOGISTIC = {"name": "logistic_regression", "n_samples": 256, "n_features": 2, "batch_size": 32, "l2": 0.01,
            "fit_intercept": False, "data_seed": 0, "init": None}


def page_json(html: str) -> dict:
    text = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(text.replace("<\\/", "</"))


def decoded(entry: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(entry["b64"]), dtype={"f4": "<f4", "f8": "<f8", "i4": "<i4"}[entry["dtype"]])


# -- the landscape -------------------------------------------------------------------------------------------------

def test_the_landscape_of_a_minibatch_objective_is_its_full_data_loss():
    from experiments.objectives.logistic_regression import _full_loss_and_derivatives

    objective = objectives.build(LOGISTIC)
    points = np.array([[0.3, -0.7], [1.5, 2.0], [-2.0, 0.1]])
    drawn = landscape.loss_at(objective, [("w", (2,))], points)
    expected = [_full_loss_and_derivatives(p, objective.x, objective.y, 0.01, 2)[0] for p in points]
    np.testing.assert_allclose(drawn, expected, rtol=1e-12)
    import autodiff as ad

    minibatch = [float(objective.loss({"w": ad.tensor(p)}, 0).item()) for p in points]
    assert not np.allclose(drawn, minibatch)  # step 0's minibatch is another function
    xs, ys, grid = plots.contour_grid(objective, objective.initial_params())  # the PNG draws the same surface
    at = landscape.loss_at(objective, [("w", (2,))], np.array([[xs[5], ys[7]]]))[0]
    assert grid[7, 5] == pytest.approx(at, rel=1e-12)


def test_the_shared_plane_holds_the_paths_principal_directions_and_says_how_much_variance():
    rng = np.random.default_rng(0)
    directions = np.linalg.qr(rng.standard_normal((5, 2)))[0].T
    paths = [np.cumsum(rng.standard_normal((200, 2)) * [3.0, 1.0], axis=0) @ directions
             + 0.05 * rng.standard_normal((200, 5)) for _ in range(3)]
    plane = landscape.shared_plane([("x", (5,))], paths)
    points = np.concatenate(paths)
    centred = points - points.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False) ** 2
    assert plane.kind == "pca"
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(plane.explained, singular[:2] / singular.sum(), rtol=1e-9)
    assert sum(plane.explained) > 0.99
    assert f"holds >99.9% of the paths' variance (PC1 {100 * plane.explained[0]:.1f}%" in plane.describe()


def test_a_large_plane_is_found_by_subspace_iteration_as_exactly_as_by_an_svd():
    rng = np.random.default_rng(1)
    dim = 400
    basis = np.linalg.qr(rng.standard_normal((dim, 3)))[0].T
    paths = [rng.standard_normal((500, 3)) * [5.0, 2.0, 0.5] @ basis + 0.01 * rng.standard_normal((500, dim))
             for _ in range(2)]
    plane = landscape.shared_plane([("x", (dim,))], paths)
    points = np.concatenate(paths)
    singular = np.linalg.svd(points - points.mean(axis=0), compute_uv=False) ** 2
    np.testing.assert_allclose(plane.explained, singular[:2] / singular.sum(), rtol=1e-6)


def test_two_coordinates_are_the_parameter_plane_itself():
    plane = landscape.shared_plane([("a", ()), ("b", ())], [np.zeros((3, 2))])
    assert plane.kind == "params" and plane.axes == ["a", "b"]
    np.testing.assert_array_equal(plane.project(np.array([[1.5, -2.0]])), [[1.5, -2.0]])


def test_runs_on_different_data_are_separate_panels():
    runs = [RunTrajectory("a", "a", {}, {**LOGISTIC, "data_seed": 0}), RunTrajectory("b", "b", {}, LOGISTIC),
            RunTrajectory("c", "c", {}, {**LOGISTIC, "data_seed": 1})]
    groups = group_runs(runs)
    assert [g.runs for g in groups] == [[0, 1], [2]]
    assert [g.label for g in groups] == ["logistic_regression (data_seed=0)", "logistic_regression (data_seed=1)"]


# -- what a page holds ---------------------------------------------------------------------------------------------

def test_the_readout_holds_every_recorded_value_exactly():
    adam = run("adam", "adam", ROSENBROCK, 30, 0.05)
    data = page_json(explorer.page_html([adam], "t", "s", explorer.RUN_PAGE_BYTES))
    entry = data["runs"][0]
    tensors = {t["label"]: t for t in entry["tensors"]}
    assert {"param/x", "grad/x", "exp_avg/x", "exp_avg_sq/x", "step/x"} <= set(tensors)
    assert tensors["exp_avg/x"]["values"]["dtype"] == "f4"  # a float32 run's values as float32
    np.testing.assert_array_equal(decoded(tensors["exp_avg/x"]["values"]).reshape(-1, 2),
                                  adam.arrays["exp_avg/x"])
    np.testing.assert_array_equal(decoded(entry["loss"]), adam.arrays["loss"])
    np.testing.assert_array_equal(decoded(entry["step"]), np.arange(31))
    cosine = decoded(entry["cos"])
    assert np.all(np.abs(cosine[:-1]) <= 1 + 1e-6) and np.isnan(cosine[-1])


def test_a_minibatch_run_carries_its_full_data_loss_along_the_path():
    sgd = run("sgd", "sgd", LOGISTIC, 40, 0.5)
    data = page_json(explorer.page_html([sgd], "t", "s", explorer.RUN_PAGE_BYTES))
    full = data["runs"][0]["full_loss"]
    steps, values = decoded(full["step"]), decoded(full["value"])
    np.testing.assert_array_equal(steps, np.arange(41))
    objective = objectives.build(LOGISTIC)
    expected = landscape.loss_at(objective, [("w", (2,))], sgd.arrays["param/w"].astype(np.float64))
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    assert not np.allclose(values[:-1], sgd.arrays["loss"][:-1])  # the recorded losses are the minibatches'
    assert data["groups"][0]["minibatches"] is True


def test_sizes_stay_within_budget():
    k = 1000
    rng = np.random.default_rng(0)

    def walk(steps, dim, dtype):
        x = np.cumsum(rng.standard_normal((steps + 1, dim)) * 0.01, axis=0).astype(dtype)
        arrays = {"step": np.arange(steps + 1), "loss": rng.random(steps + 1), "lr": np.full(steps + 1, 0.01),
                  "param/x": x, "grad/x": rng.standard_normal((steps + 1, dim)).astype(dtype)}
        for key in ("exp_avg", "exp_avg_sq", "momentum_buffer"):
            arrays[f"{key}/x"] = rng.standard_normal((steps + 1, dim)).astype(dtype)
        arrays["step/x"] = np.arange(steps + 1, dtype=dtype)
        return arrays

    sweep = [RunTrajectory(str(i), f"run {i}", walk(k, 2, np.float64), ROSENBROCK) for i in range(8)]
    assert len(explorer.page_html(sweep, "t", "s", explorer.COMPARISON_PAGE_BYTES).encode()) < 5_000_000
    long_run = RunTrajectory("long", "long", walk(10_000, 2, np.float64), ROSENBROCK)
    html = explorer.page_html([long_run], "t", "s", explorer.RUN_PAGE_BYTES)
    assert len(html.encode()) < 3_000_000
    assert page_json(html)["runs"][0]["stride"] == 1  # every step, exactly
    wide = RunTrajectory("wide", "wide", walk(10_000, 200, np.float32), {"name": "quadratic", "dim": 200})
    html = explorer.page_html([wide], "t", "s", explorer.RUN_PAGE_BYTES)
    assert len(html.encode()) < 3_000_000
    assert "their first" in html and "norm" in html  # the page says it shows some elements of large tensors


def test_the_readout_plan_thins_steps_only_past_the_budget():
    arrays = {"step": np.arange(101), "loss": np.zeros(101), "param/x": np.zeros((101, 2), np.float32),
              "grad/x": np.zeros((101, 2), np.float32)}
    small = RunTrajectory("a", "a", arrays, ROSENBROCK)
    assert payload.readout_plan([small], 1_000_000) == (payload.MAX_SHOWN, 1)
    shown, stride = payload.readout_plan([small] * 50, 100_000)
    assert shown == 1 and stride > 1


def test_a_run_with_no_update_has_a_page():
    arrays = {"step": np.array([0]), "loss": np.array([24.2]), "param/x": np.array([[-1.2, 1.0]], np.float32)}
    data = page_json(explorer.page_html([RunTrajectory("a", "a", arrays, ROSENBROCK)], "t", "s", 3_000_000))
    assert data["runs"][0]["rows"] == 1 and data["groups"][0]["grid"] is not None


def test_the_page_is_self_contained():
    html = explorer.page_html([run("sgd", "sgd", ROSENBROCK, 5, 0.001)], "t", "s", explorer.RUN_PAGE_BYTES)
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=', html)
    assert "http://" not in html.replace('"http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert (Path(explorer.__file__).parent / "assets" / "app.js").exists()


# -- the page in a browser -----------------------------------------------------------------------------------------

def test_a_page_draws_moves_toggles_and_reads_out_in_chromium(tmp_path):
    runs = [run("sgd", "sgd", ROSENBROCK, 60, 0.001), run("adam", "adam", ROSENBROCK, 60, 0.05)]
    path = tmp_path / "explorer.html"
    path.write_text(explorer.page_html(runs, "two runs", "", explorer.COMPARISON_PAGE_BYTES))
    with open_page(path) as page:
        check_page(page, runs=2, state_keys=["exp_avg/x", "exp_avg_sq/x", "step/x"])


@pytest.mark.slow
def test_n_dimensional_minibatch_and_one_coordinate_pages_render(tmp_path):
    pages = {
        "quadratic": ([run("adam", "adam", {"name": "quadratic", "dim": 6, "condition_number": 10.0,
                                              "rotation_seed": 0, "init": None}, 40, 0.05),
                       run("momentum", "sgd", {"name": "quadratic", "dim": 6, "condition_number": 10.0,
                                                "rotation_seed": 0, "init": None}, 40, 0.05)], 1),
        "logistic": ([run("seed0", "adam", LOGISTIC, 40, 0.05),
                      run("seed1", "adam", {**LOGISTIC, "data_seed": 1}, 40, 0.05)], 2),
        "line": ([run("line", "adam", {"name": "quadratic", "dim": 1, "condition_number": 1.0, "rotation_seed": 0,
                                       "init": None}, 40, 0.05)], 1),
    }
    for name, (runs, panels) in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(explorer.page_html(runs, name, "", explorer.COMPARISON_PAGE_BYTES))
        with open_page(path) as page:
            page.wait_for_selector("body[data-ready=true]")
            assert page.locator("section.group").count() == panels
            assert page.locator("path.path").count() == len(runs)
            text = page.locator("main").inner_text()
            if name == "quadratic":
                assert "variance" in text and "PC1" in text
            if name == "logistic":
                assert "full data set" in text and "data_seed=1" in text


# -- end to end: the runner, a sweep, the compare CLI, MLflow's own viewer -------------------------------------------

def download(client, run_id: str, name: str, into: Path) -> Path:
    return Path(client.download_artifacts(run_id, name, str(into)))


@pytest.mark.slow
def test_every_run_and_every_sweep_parent_log_an_explorer_page(tmp_path):
    from runner_support import PARENT, all_runs, client_for, run_cli, sweep

    run_cli(["optimizer=adam", "objective=rosenbrock", "steps=30", "lr=0.05", "tracking.experiment=single"], tmp_path)
    client = client_for(tmp_path)
    (single,) = all_runs(client)
    page = download(client, single.info.run_id, explorer.ARTIFACT, tmp_path / "single")
    assert page.stat().st_size < 3_000_000
    with open_page(page) as browser_page:
        check_page(browser_page, runs=1, state_keys=["exp_avg/x", "exp_avg_sq/x", "step/x"])
    parent, children, _ = sweep(tmp_path, "explorer", "optimizer=sgd,adam,rmsprop", "objective=rosenbrock",
                                "steps=30", "lr=0.01", "tracking.experiment=sweep")
    assert all(c.data.tags[PARENT] == parent.info.run_id for c in children)
    page = download(client, parent.info.run_id, explorer.ARTIFACT, tmp_path / "parent")
    with open_page(page) as browser_page:
        check_page(browser_page, runs=3, state_keys=["exp_avg/x", "exp_avg_sq/x", "square_avg/x"])
        legend = browser_page.locator("aside.legend").inner_text()
        assert "optimizer=sgd" in legend and "optimizer=rmsprop" in legend


@pytest.mark.slow
def test_compare_writes_the_page_and_draws_runs_on_other_data_apart(tmp_path):
    from runner_support import client_for, run_cli

    for seed in (0, 1):
        run_cli(["optimizer=adam", "objective=logistic_regression", f"seed={seed}", "steps=25", "lr=0.1",
                 "tracking.experiment=logistic"], tmp_path)
    out = run_cli(["logistic", "--out", str(tmp_path / "cmp")], tmp_path, module="experiments.compare")
    assert "explorer.html" in out.stdout
    folder = tmp_path / "cmp"
    assert (folder / "comparison_contour_1.png").exists() and (folder / "comparison_contour_2.png").exists()
    assert not (folder / "comparison_contour.png").exists()  # no surface holds both data sets
    with open_page(folder / explorer.ARTIFACT) as page:
        check_page(page, runs=2, state_keys=["exp_avg/w", "exp_avg_sq/w"], panels=2)
        headings = page.locator("section.group h2").all_inner_texts()
        assert headings == ["logistic_regression (data_seed=0)", "logistic_regression (data_seed=1)"]
        assert "full data set" in page.locator("section.group").first.inner_text()
    assert client_for(tmp_path).search_experiments()  # the store was only read


@pytest.mark.slow
def test_the_page_renders_inside_the_mlflow_ui_artifact_viewer(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from runner_support import all_runs, client_for, run_cli
    from support.browser import browser
    from support.mlflow_server import free_port

    run_cli(["optimizer=adam", "objective=rosenbrock", "steps=20", "lr=0.05", "tracking.experiment=ui"], tmp_path)
    (run_entity,) = all_runs(client_for(tmp_path))
    port = free_port()
    ui = subprocess.Popen([sys.executable, "-m", "mlflow", "ui", "--backend-store-uri",
                           f"sqlite:///{tmp_path / 'mlflow.db'}", "--host", "127.0.0.1", "--port", str(port),
                           "--workers", "1"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1):
                    break
            except OSError:
                assert ui.poll() is None, "mlflow ui exited"
                time.sleep(0.3)
        url = (f"{base}/#/experiments/{run_entity.info.experiment_id}/runs/{run_entity.info.run_id}"
               f"/artifacts/{explorer.ARTIFACT}")
        with browser(offline=False) as context:
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("iframe", timeout=60_000)
            frame = next(f for f in _frames_when(page, lambda f: f.query_selector("body[data-ready=true]")))
            assert frame.locator("path.path").count() == 1
            assert frame.locator("section.group image.shades").count() == 1
            page.screenshot(path=str(tmp_path / "mlflow-ui.png"))
    finally:
        os.killpg(ui.pid, signal.SIGKILL)
        ui.wait(timeout=30)


def _frames_when(page, ready, timeout: float = 60):
    """The page's frames that satisfy ``ready``, waiting for one (the viewer loads the artifact after the page)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = []
        for frame in page.frames:
            try:
                if ready(frame):
                    found.append(frame)
            except Exception:  # noqa: BLE001 - a frame navigating away meanwhile
                continue
        if found:
            return found
        page.wait_for_timeout(250)
    raise AssertionError(f"no frame of {page.url} rendered the explorer: {[f.url for f in page.frames]}")


@pytest.mark.slow
def test_the_screenshot_script_writes_a_png(tmp_path):
    from runner_support import ROOT

    out = tmp_path / "explorer.png"
    _run_script(ROOT / "docs" / "make_screenshots.py", out, tmp_path)
    header = out.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert width == 1400 and height > 600


def _run_script(script: Path, out: Path, cwd: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    subprocess.run([sys.executable, str(script), "--out", str(out)], cwd=cwd, env=env, check=True, timeout=600)


@pytest.mark.slow
def test_a_wheel_holds_the_page_assets(tmp_path):
    import subprocess
    import sys
    import zipfile

    from runner_support import ROOT

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, timeout=600)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("page.html", "page.css", "util.js", "chart.js", "landscape.js", "app.js"):
        assert f"experiments/explorer/assets/{asset}" in names
    for asset in ("study.html", "study.css", "study_profiles.js", "study_lr.js", "study_app.js"):  # study.html's
        assert f"experiments/studies/assets/{asset}" in names


def test_a_comparison_names_runs_by_what_differs_and_says_what_they_share(tmp_path):
    arrays = {"step": np.arange(3), "loss": np.array([3.0, 2.0, 1.0]), "param/x": np.zeros((3, 2), np.float32),
              "grad/x": np.ones((3, 2), np.float32)}
    runs = [RunTrajectory(str(i), f"optimizer={name} lr=0.1 tracking.experiment=e", dict(arrays), ROSENBROCK)
            for i, name in enumerate(("sgd", "adam"))]
    html = explorer.comparison_page(runs, tmp_path / "page.html").read_text()
    assert [r.name for r in runs] == ["optimizer=sgd", "optimizer=adam"]
    assert "every one with lr=0.1." in html and "tracking.experiment" not in html.split("<script")[0]
