"""The links the runner prints open the run in a real ``mlflow ui``, in its model-training view."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("mlflow")
pytest.importorskip("playwright")

from runner_support import run_cli, run_id_from  # noqa: E402
from support.browser import browser  # noqa: E402
from support.mlflow_server import MlflowUi  # noqa: E402

pytestmark = pytest.mark.slow
LINK = re.compile(r"View it at (http://127\.0\.0\.1:5000/\S+) \(served by: (mlflow ui [^)]*)\)")


def test_the_closing_line_links_to_the_run_in_the_model_training_view_of_mlflow_ui(tmp_path):
    out = run_cli(["optimizer=adam", "lr=0.1", "steps=3", "logging.plots=false"], tmp_path)
    run_id = run_id_from(out.stdout)
    closing = out.stdout.strip().splitlines()[-1]
    link, command = LINK.search(closing).groups()
    store = f"sqlite:///{(tmp_path / 'mlflow.db').resolve()}"
    assert command == f"mlflow ui --backend-store-uri {store} --host 127.0.0.1"
    assert link.endswith(f"/runs/{run_id}?workflowType=machine_learning")
    with MlflowUi(tmp_path / "ui", store) as ui:  # the printed command, on a port of the test's own
        # offline=False: Chromium's offline mode cuts loopback too (net::ERR_INTERNET_DISCONNECTED)
        with browser(offline=False) as context:
            page = context.new_page()
            page.goto(link.replace("127.0.0.1:5000", f"127.0.0.1:{ui.port}"), wait_until="load")
            page.get_by_role("heading", name="optimizer=adam lr=0.1 steps=3").wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "run.png"))
            # the model-training view: the run under the experiment's "Runs" (the GenAI view has "Evaluation runs")
            assert page.get_by_role("link", name="Runs", exact=True).count() >= 1
            assert page.get_by_text("Evaluation runs").count() == 0
            assert page.get_by_role("tab", name="Model metrics").count() == 1
