"""Make the README's screenshot of the trajectory explorer: a small sweep on Rosenbrock, then its parent run's
``explorer.html`` in headless Chromium (Debian's ``chromium``, driven by Playwright; no network).

    python docs/make_screenshots.py [--out docs/images/explorer.png] [--work DIR]

The sweep runs in a temporary folder (``--work`` keeps it) with its own SQLite store, so nothing of yours is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ["-m", "objective=rosenbrock", "optimizer=sgd,adam,rmsprop,lion", "lr=0.005", "steps=500",
         "tracking.experiment=explorer-screenshot"]
STEP_FRACTION = 0.3  # where the slider stands in the picture: early, while the paths still differ most


def run_sweep(work: Path) -> Path:
    """The sweep's parent ``explorer.html``, downloaded into ``work``."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    subprocess.run([sys.executable, str(ROOT / "run.py"), *SWEEP, f"hydra.sweep.dir={work / 'sweep'}"], cwd=work,
                   env=env, check=True, capture_output=True, text=True)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{work / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("explorer-screenshot")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)  # the children name it
    return Path(client.download_artifacts(parent.info.run_id, "explorer.html", str(work)))


@contextlib.contextmanager
def ready_page(page_path: Path):
    """``page_path`` open in headless Chromium (1400 x 900, no network), once it has drawn (``data-ready``)."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True, viewport={"width": 1400, "height": 900},
                                          device_scale_factor=1)
            page = context.new_page()
            page.goto(page_path.resolve().as_uri())
            page.wait_for_selector("body[data-ready=true]")
            yield page
        finally:
            browser.close()


def screenshot(page_path: Path, out: Path) -> None:
    with ready_page(page_path) as page:
        page.evaluate(f"window.explorer.setIndex(Math.round((window.explorer.steps.length - 1) * {STEP_FRACTION}))")
        out.parent.mkdir(parents=True, exist_ok=True)
        bottom = page.evaluate("document.querySelector('section.group').getBoundingClientRect().bottom")
        page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": 1400, "height": bottom + 12}, full_page=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images" / "explorer.png"))
    parser.add_argument("--work", default=None, help="keep the sweep's store and folders here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="explorer-screenshot-") as scratch:
        work = Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        screenshot(run_sweep(work), Path(args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
