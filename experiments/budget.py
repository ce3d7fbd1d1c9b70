"""What a run will need and write, estimated from its configuration before anything is built, and the checks on it.

A run's memory is its objective's data (``logistic_regression``'s ``n_samples x n_features`` matrix, a
``quadratic``'s ``dim x dim`` one), its working tensors (parameters, gradients, the optimizer's state, the engine's
temporaries), and what it keeps to write at its end: the trajectory artifact (every recorded step of every tensor,
stacked once more when saved), the loss curve and the 2-D path of the plots. Its disk is the store's metric points
(about :data:`BYTES_PER_POINT` each), the trajectory artifact, the explorer page and the checkpoints (the state, and
beside them the recorded rows in stretches: the trajectory once more until the run finishes), once in the run's
temporary folder and once among the artifacts.

Before a run exists, :func:`check` refuses (a ConfigError, exit code 2) what this machine cannot hold: memory beyond
what is available now (``MemAvailable``, and a cgroup's limit where there is one), or disk beyond the free space of
a filesystem the run writes to (an SQLite store's, a local artifact folder's, the temporary folder's). A run that
would write more than ``limits.confirm_above_gb`` is refused too unless ``limits.confirm=true``, and then starts by
saying what it will write. The estimate is an upper bound (state tensors per parameter: 3, Adam's with amsgrad);
``limits.check=false`` skips the checks, not the confirmation.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .errors import ConfigError
from .tracking.artifact_files import local_path

GB = 1e9
BYTES_PER_POINT = 250  # one metric point in MLflow's SQL store, its indexes and latest_metrics row included
STATE_TENSORS = 3  # per parameter tensor, at most (exp_avg, exp_avg_sq, max_exp_avg_sq)
WORK_COPIES = 8  # parameters, gradient, the recorded copy, the first-step trial's copy, the engine's temporaries
SUMMARY_KEYS = 4  # norm, mean, min, max of a tensor beyond logging.max_elements
SCALAR_KEYS = 7  # loss, loss_gap, distance_to_optimum, grad_norm, lr, update_norm, update_cosine (recording)
BYTES_PER_KEY = 120  # a per-element metric name, cached for the run, and its value on the way to the store


@dataclass(frozen=True)
class Estimate:
    memory: int  # bytes, at the peak
    data: int  # of which the objective's data
    disk: dict[str, int]  # folder -> bytes written there
    written: int  # bytes written in all (store and artifacts)
    points: int  # metric points sent to the store
    rows: int  # recorded steps

    def describe(self) -> str:
        return (f"{self.points:,} metric points ({self.rows:,} recorded steps), about {_size(self.written)} written "
                f"in all, and {_size(self.memory)} of memory at its peak"
                + (f" ({_size(self.data)} of it the objective's data)" if self.data else ""))


def _size(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def objective_shape(objective_cfg) -> tuple[list[int], int]:
    """(elements of each parameter tensor, bytes of the objective's data), without building data-heavy objectives:
    their class says it (``Objective.footprint``); any other objective is built (cheap) and its start counted."""
    from . import objectives
    from .config import plain
    from .objectives import gradient_noise

    options, _ = gradient_noise.split(plain(objective_cfg))
    name = options.pop("name", None)
    factory = objectives.get(name)
    footprint = getattr(factory, "footprint", None)
    known = footprint(**options) if callable(footprint) else None
    if known is not None:
        return list(known.parameters), int(known.data_bytes)
    import numpy as np

    return [int(np.size(v)) for v in objectives.build(objective_cfg).initial_params().values()], 0


def estimate(cfg, sizes: list[int], data_bytes: int, places: dict[str, str]) -> Estimate:
    """The needs of ``cfg`` whose parameter tensors have ``sizes`` elements; ``places`` maps "store", "artifacts"
    and "scratch" to local folders where they are local."""
    itemsize = 4 if cfg.dtype == "float32" else 8
    log = cfg.logging
    steps, every = int(cfg.steps), int(log.every)
    rows = steps // every + 2  # steps 0, every, ... and the final one
    elements = sum(sizes)
    kinds = 2 + (STATE_TENSORS if log.state else 0)  # param, grad, state tensors
    per_row = elements * itemsize * kinds
    trajectory = rows * per_row if log.trajectory else 0
    keys, element_keys = SCALAR_KEYS, 0
    for size in sizes:
        per_kind = size if size <= int(log.max_elements) else SUMMARY_KEYS
        keys += kinds * per_kind
        element_keys += kinds * per_kind if size <= int(log.max_elements) else 0
    points = rows * keys if log.metrics else 0
    plotted = rows * (64 + (16 if elements == 2 else 0)) if log.plots else 0  # the loss curve, the 2-D path
    pending = min(points, max(200_000, keys)) * BYTES_PER_KEY  # points on their way to the store (bounded)
    memory = (data_bytes + WORK_COPIES * elements * itemsize + STATE_TENSORS * elements * itemsize
              + 2 * trajectory + plotted + (element_keys * BYTES_PER_KEY + pending if log.metrics else 0))
    checkpoint_cfg = cfg.get("checkpoint") or {}
    checkpoint_every = int(checkpoint_cfg.get("every", 0))
    one_checkpoint = elements * itemsize * (1 + STATE_TENSORS)  # the state: the recorded rows go in stretches
    kept = int(checkpoint_cfg.get("keep", 2)) + 1 if checkpoint_every and steps > checkpoint_every else 0
    history = trajectory if kept else 0  # the stretches, until the finished run deletes them with its checkpoints
    stretch = min(trajectory, per_row * (checkpoint_every // every + 1)) if kept and log.trajectory else 0
    from .explorer.page import RUN_PAGE_BYTES

    # explorer.html: base64 of (part of) the trajectory plus its landscape, held to the run page's budget
    page = min(RUN_PAGE_BYTES, 2 * trajectory + 150_000) if log.plots and log.trajectory else 0
    artifacts = trajectory + history + page + kept * one_checkpoint  # the ones kept and the next one written
    disk: dict[str, int] = {}
    for place, size in (("store", points * BYTES_PER_POINT), ("artifacts", artifacts),
                        ("scratch", trajectory + page + (one_checkpoint + stretch if kept else 0))):
        folder = places.get(place)
        if folder:
            disk[folder] = disk.get(folder, 0) + size
    return Estimate(int(memory), int(data_bytes), disk, int(points * BYTES_PER_POINT + artifacts), int(points),
                    rows)


def available_memory() -> int | None:
    """Bytes this process may still take: ``MemAvailable``, capped by a cgroup v2 limit; None where unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo)
        available = int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
        if limit != "max":
            available = min(available, int(limit) - used)
    except (OSError, ValueError):
        pass
    return available


def local_places(uri: str, artifact_location: str | None) -> dict[str, str]:
    """The local folders a run writes to: the SQLite store's, a file artifact location's, the temporary folder."""
    places = {"scratch": tempfile.gettempdir()}
    if uri.startswith("sqlite:///"):
        places["store"] = str(Path(uri[len("sqlite:///"):]).parent)
    elif urlparse(uri).scheme == "file":
        places["store"] = local_path(uri)
    if artifact_location and urlparse(artifact_location).scheme in ("file", ""):
        places["artifacts"] = local_path(artifact_location)  # as MLflow reads it: %20 is a space
    return places


def _free(folder: str) -> tuple[int, int] | None:
    """(filesystem id, free bytes) of the nearest existing folder above ``folder``."""
    path = Path(folder)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return os.stat(path).st_dev, shutil.disk_usage(path).free
    except OSError:
        return None


def check(cfg, need: Estimate) -> None:
    """Refuse ``cfg`` (ConfigError) when ``need`` exceeds this machine, or its writes exceed the confirmation size
    unconfirmed; say what it will write when it is confirmed."""
    limits = cfg.get("limits") or {}
    subject = f"steps={cfg.steps}, logging.every={cfg.logging.every}, logging.max_elements={cfg.logging.max_elements}"
    if limits.get("check", True):
        memory = available_memory()
        if memory is not None and need.memory > memory:
            raise ConfigError(
                f"This run would need about {_size(need.memory)} of memory ({need.describe()}), and this machine "
                f"has {_size(memory)} available, so nothing was run. Make it smaller (the objective's size, "
                f"{subject}; logging.trajectory=false keeps no trajectory in memory), or run it on a larger "
                "machine. limits.check=false skips this check.")
        by_device: dict[int, list] = {}
        for folder, size in need.disk.items():
            free = _free(folder)
            if free is not None:
                by_device.setdefault(free[0], [0, free[1], []])
                by_device[free[0]][0] += size
                by_device[free[0]][2].append(folder)
        for size, free, folders in by_device.values():
            if size > free:
                raise ConfigError(
                    f"This run would write about {_size(size)} to {', '.join(folders)} ({need.describe()}), where "
                    f"{_size(free)} is free, so nothing was run. Write less ({subject}, logging.metrics=false, "
                    "logging.trajectory=false, checkpoint.every=0) or free some space. limits.check=false skips "
                    "this check.")
    threshold = float(limits.get("confirm_above_gb", 10)) * GB
    if need.written > threshold:
        if not limits.get("confirm", False):
            raise ConfigError(
                f"This run would write about {_size(need.written)} ({need.describe()}), more than "
                f"limits.confirm_above_gb={limits.get('confirm_above_gb', 10)}, so nothing was run. If that is "
                f"what you want, add limits.confirm=true; else write less ({subject}, logging.metrics=false, "
                "logging.trajectory=false).")
        print(f"This run will write about {_size(need.written)}: {need.describe()} (confirmed with "
              "limits.confirm=true).", flush=True)
