"""Make the README's study figures: run ``study=quick`` (joblib, two workers), then take its parent run's
``performance_profile.png`` and ``lr_sensitivity.png`` and a screenshot of its ``study.html`` (headless Chromium,
Debian's ``chromium`` driven by Playwright, no network). Prints how long the study took.

    python docs/make_study_figures.py [--out-dir docs/images] [--work DIR] [override ...]

Overrides after the options are added to the study's command (a smaller study: ``objective=quadratic
optimizer=sgd,adam study.lr_factor=0.1,1.0 seed=0 steps=50``). The study runs in a temporary folder (``--work``
keeps it) with its own SQLite store, so nothing of yours is touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDY = ["-m", "study=quick", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
FIGURES = {"performance_profile.png": "study_profile.png", "lr_sensitivity.png": "study_lr_sensitivity.png"}
PAGE_SHOT = "study_page.png"


def run_study(work: Path, overrides: list[str]) -> tuple[str, float]:
    """The study's parent run id and the study's wall time in seconds."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run.py"), *STUDY, *overrides, f"hydra.sweep.dir={work / 'sweep'}"],
                   cwd=work, env=env, check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    import json

    return json.loads((work / "sweep" / "mlflow_parent.json").read_text())["run_id"], elapsed


def fetch(work: Path, parent: str, name: str) -> Path:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{work / 'mlflow.db'}")
    return Path(client.download_artifacts(parent, name, str(work)))


def screenshot(page_path: Path, out: Path) -> None:
    """The top of the page: the performance profiles and the start of the learning-rate sensitivity."""
    from make_screenshots import ready_page  # docs/, beside this script

    with ready_page(page_path) as page:
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--work", default=None, help="keep the study's store and folders here")
    parser.add_argument("overrides", nargs="*", help="more overrides for the study's command")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="study-figures-") as scratch:
        work = Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        parent, elapsed = run_study(work, args.overrides)
        for artifact, name in FIGURES.items():
            shutil.copyfile(fetch(work, parent, artifact), out_dir / name)
        screenshot(fetch(work, parent, "study.html"), out_dir / PAGE_SHOT)
    command = " ".join(["python run.py", *STUDY, *args.overrides])
    print(f"{command}: {elapsed:.0f} s; wrote {', '.join([*FIGURES.values(), PAGE_SHOT])} in {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
