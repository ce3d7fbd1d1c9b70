"""Driving ``python run.py`` as a subprocess against a real SQLite store, and reading runs back with MlflowClient."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_PY = ROOT / "run.py"
PARENT = "mlflow.parentRunId"
# A run that goes on until the test stops it. Its disk check is off: it would weigh all the steps (about 7 GB).
UNTIL_STOPPED = ["steps=1000000", "limits.check=false"]


def run_cli(args: list[str], cwd: Path, env: dict | None = None, check: bool = True, module: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """``python run.py *args`` (or ``python -m module *args``) in ``cwd``; stores default to ``cwd/mlflow.db``."""
    environment = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    environment.update(env or {})
    command = [sys.executable, "-m", module, *args] if module else [sys.executable, str(RUN_PY), *args]
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def run_cli_together(commands: list[list[str]], cwd: Path, timeout: float = 300) -> list[subprocess.CompletedProcess]:
    """``python run.py *args`` for each of ``commands`` at once (independent runs: the store takes concurrent runs,
    tests/test_faults.py checks it), each required to exit 0; their results in the order given."""
    processes = [start_cli(args, cwd) for args in commands]
    try:
        outputs = [process.communicate(timeout=timeout) for process in processes]
    finally:
        for process in processes:
            kill_everything(process)
    results = []
    for args, process, (stdout, stderr) in zip(commands, processes, outputs):
        if process.returncode != 0:
            raise AssertionError(
                f"python run.py {' '.join(args)} exited with {process.returncode}:\n{stdout}\n{stderr}")
        results.append(subprocess.CompletedProcess(["python", "run.py", *args], process.returncode, stdout, stderr))
    return results


def client_for(directory: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{directory / 'mlflow.db'}")


def run_id_from(output: str) -> str:
    """The run id of the summary line ``run <id> finished: ...`` (the last one printed)."""
    lines = [line for line in output.splitlines() if line.startswith("run ")]
    assert lines, f"no summary line in:\n{output}"
    return lines[-1].split()[1]


def history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def all_runs(client) -> list:
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, max_results=1000) if experiments else []


def start_cli(args: list[str], cwd: Path, env: dict | None = None, stdout=subprocess.PIPE,
              stderr=subprocess.PIPE) -> subprocess.Popen:
    """``python run.py *args`` in the background, in its own process group (stdout and stderr captured as text,
    or written to the files given)."""
    environment = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    environment.update(env or {})
    return subprocess.Popen([sys.executable, str(RUN_PY), *args], cwd=cwd, env=environment, stdout=stdout,
                            stderr=stderr, text=True, start_new_session=True)


def wait_for_run(client, experiment: str, process: subprocess.Popen | None = None, metric: str = "Objective/loss",
                 min_points: int = 1, timeout: float = 180):
    """The run of ``experiment`` once the store holds ``min_points`` points of ``metric`` (fails if ``process``
    exits first or the time runs out)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.get_experiment_by_name(experiment)
        runs = client.search_runs([found.experiment_id]) if found else []
        if runs and metric in runs[0].data.metrics:
            if min_points <= 1 or len(client.get_metric_history(runs[0].info.run_id, metric)) >= min_points:
                return runs[0]
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the run exited with {process.returncode} first:\n{process.communicate()}")
        time.sleep(0.2)
    raise AssertionError(f"no run of {experiment!r} with {min_points} points of {metric!r} within {timeout} s")


def histories(client, run_id: str) -> dict[str, list[tuple[int, float]]]:
    """Every metric of the run: key -> its ``history``."""
    return {key: history(client, run_id, key) for key in client.get_run(run_id).data.metrics}


def every_point_present(client, run_id: str, steps: int, read: dict | None = None) -> dict[str, int]:
    """Metric key -> number of points, asserting one point per step 0..steps-1 (and step ``steps`` for the keys
    logged after the last update) for every per-step key, with no gap and no duplicate, and the ``Summary/*`` keys
    once at step ``steps``. ``read``: the run's ``histories`` when the caller has them already."""
    read = histories(client, run_id) if read is None else read
    counts = {}
    for key, points in read.items():
        seen = [step for step, _ in points]
        if key.startswith("Summary/"):  # once, when the run ends
            assert seen == [steps], (key, seen)
            counts[key] = 1
            continue
        assert seen in (list(range(steps)), list(range(steps + 1))), (key, len(seen), seen[:3], seen[-3:])
        counts[key] = len(seen)
    return counts


def sweep(store: Path, name: str, *args: str, check: bool = True):
    """Run ``python run.py -m *args`` with its own sweep directory; returns (parent run, children, process)."""
    client = client_for(store)
    before = {r.info.run_id for r in all_runs(client)} if (store / "mlflow.db").exists() else set()
    out = run_cli(["-m", f"hydra.sweep.dir={store / 'sweeps' / name}", *args], store, check=check)
    new = [r for r in all_runs(client) if r.info.run_id not in before]
    parents = [r for r in new if PARENT not in r.data.tags]
    assert len(parents) == 1, [r.info.run_name for r in new]
    children = [r for r in new if r.data.tags.get(PARENT) == parents[0].info.run_id]
    assert len(children) == len(new) - 1
    return parents[0], children, out


def descendants(pid: int) -> set[int]:
    """Every live process under ``pid`` (read from /proc: children, their children, ...)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def still_running(pids, within: float = 0) -> list[int]:
    """The processes of ``pids`` that still exist and are not zombies (exited, waiting to be reaped), once they
    have had up to ``within`` seconds to go (a process told to stop by another, such as a Ray worker whose raylet
    ended, takes a moment, longer on a loaded machine)."""
    import time

    deadline = time.monotonic() + within
    while (alive := _alive_now(pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def command_line(pid: int) -> str:
    """``pid``'s command line as ``ps`` shows it (empty once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _alive_now(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def kill_everything(process: subprocess.Popen, pids=()) -> None:
    """SIGKILL ``process``'s process group and ``pids`` (a test's cleanup, also when it failed)."""
    import signal

    for kill, target in [(os.killpg, process.pid), *((os.kill, pid) for pid in pids)]:
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        process.communicate(timeout=30)
    except (subprocess.TimeoutExpired, ValueError):
        pass


def wait_for_checkpoint(client, run_id: str, process, at_least_points: int, timeout: float = 300) -> int:
    """The step of the first checkpoint of ``run_id`` seen once it has logged ``at_least_points`` losses, with
    ``process`` left stopped (SIGSTOP) where it was seen: a SIGKILL that follows finds the run as it was read, not
    finished meanwhile (fails if ``process`` exits or ends its run first)."""
    import signal
    import time

    deadline, failure = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        process.send_signal(signal.SIGSTOP)
        assert process.poll() is None, process.communicate()
        try:
            run = client.get_run(run_id)
            points = len(client.get_metric_history(run_id, "Objective/loss"))
        except Exception as error:  # stopped in the middle of a write that holds the store's lock: let it finish
            run, failure = None, error
        if run is not None:
            assert run.info.status == "RUNNING", f"the run ended ({run.info.status}) before a checkpoint was seen"
            if run.data.tags.get("checkpoint_step") and points >= at_least_points:
                return int(run.data.tags["checkpoint_step"])
        process.send_signal(signal.SIGCONT)
        time.sleep(0.1)
    process.send_signal(signal.SIGCONT)
    raise AssertionError(f"no checkpoint within {timeout:.0f} s (last failed read: {failure!r})")
