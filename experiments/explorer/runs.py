"""The runs a page shows: each run's trajectory arrays (``trajectory.npz``) and the objective it minimised, grouped
by the data they ran on (runs are drawn on one surface only when their objectives are the same function).

Everything is read from the trajectory and the run's ``config.yaml``, never from metric names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

NOT_STATE = ("step", "loss", "lr")


@dataclass
class RunTrajectory:
    """One run: its id and name, the arrays of its ``trajectory.npz``, and the resolved ``objective`` node of its
    config (None when unknown)."""

    run_id: str
    name: str
    arrays: dict[str, np.ndarray]
    objective_cfg: dict | None = None
    optimizer: str = ""
    status: str = "FINISHED"

    @property
    def steps(self) -> np.ndarray:
        return np.asarray(self.arrays["step"], dtype=np.int64)

    @property
    def losses(self) -> np.ndarray:
        return np.asarray(self.arrays["loss"], dtype=np.float64)

    @property
    def layout(self) -> list[tuple[str, tuple[int, ...]]]:
        """``[(parameter name, shape), ...]`` in the order the run recorded them."""
        return [(key[len("param/"):], tuple(a.shape[1:])) for key, a in self.arrays.items()
                if key.startswith("param/")]

    def flat(self, kind: str) -> np.ndarray:
        """``(k, D)`` float64: every parameter (``kind="param"``) or gradient (``"grad"``) flattened together."""
        k = len(self.steps)
        parts = [np.asarray(self.arrays[f"{kind}/{name}"], dtype=np.float64).reshape(k, -1)
                 if f"{kind}/{name}" in self.arrays else np.full((k, int(np.prod(shape))), np.nan)
                 for name, shape in self.layout]  # no gradient at all: a run stopped before its first step
        return np.concatenate(parts, axis=1) if parts else np.full((k, 0), np.nan)

    def state_keys(self) -> list[tuple[str, str]]:
        """``[(state key, parameter name), ...]``: the tensors the optimizer keeps, by their state-key names."""
        out = []
        for key in self.arrays:
            if key in NOT_STATE or key.startswith(("param/", "grad/")) or "/" not in key:
                continue
            state_key, _, name = key.rpartition("/")
            out.append((state_key, name))
        return out

    @property
    def dtype(self) -> np.dtype:
        first = next((a for k, a in self.arrays.items() if k.startswith("param/")), None)
        return np.dtype(np.float32) if first is not None and first.dtype == np.float32 else np.dtype(np.float64)


@dataclass
class Group:
    """Runs on the same objective (same settings, same data): one landscape, one plane."""

    key: str
    label: str
    runs: list[int]  # indices into the page's runs
    objective: object | None = None
    objective_cfg: dict | None = None
    problem: str | None = None  # why there is no landscape, when there is none
    notes: list[str] = field(default_factory=list)


def data_key(objective_cfg: dict | None) -> str:
    return json.dumps(objective_cfg, sort_keys=True, default=str) if objective_cfg is not None else "unknown"


def group_runs(runs: list[RunTrajectory], objective=None) -> list[Group]:
    """Runs grouped by their objective's settings (data_seed included); ``objective``, when given, is the built
    objective of every run (a run's own page)."""
    groups: dict[str, Group] = {}
    for index, run in enumerate(runs):
        key = data_key(run.objective_cfg) + json.dumps(run.layout)
        if key not in groups:
            groups[key] = Group(key, "", [], objective_cfg=run.objective_cfg)
        groups[key].runs.append(index)
    found = list(groups.values())
    labels = _labels([g.objective_cfg for g in found])
    for group, label in zip(found, labels):
        group.label = label
        if objective is not None:
            group.objective = objective
        else:
            group.objective, group.problem = build_objective(group.objective_cfg)
    return found


def _labels(configs: list[dict | None]) -> list[str]:
    """``rosenbrock`` for one group; with several, each group's name and the settings that tell it apart."""
    known = [c for c in configs if c]
    labels = []
    for cfg in configs:
        if not cfg:
            labels.append("objective unknown (no config.yaml)")
            continue
        same_name = [other for other in known if other.get("name") == cfg.get("name")]
        differing = {k for other in same_name for k in set(cfg) | set(other) if cfg.get(k) != other.get(k)}
        settings = ", ".join(f"{k}={json.dumps(cfg.get(k))}" for k in sorted(differing))
        labels.append(f"{cfg.get('name', '?')}" + (f" ({settings})" if settings else ""))
    return labels


def build_objective(objective_cfg: dict | None):
    """``(objective, None)``, or ``(None, why)`` when it cannot be built here (a plugin not installed, ...)."""
    if objective_cfg is None:
        return None, "the runs' objective is unknown"
    from .. import objectives

    try:
        return objectives.build(dict(objective_cfg)), None
    except Exception as error:  # noqa: BLE001 - any failure leaves the page without a landscape, not without paths
        return None, f"the objective {objective_cfg.get('name')!r} cannot be built here ({error})"


def from_store(client, run) -> RunTrajectory | None:
    """A stored run's trajectory and objective (None for a run without ``trajectory.npz``)."""
    from omegaconf import OmegaConf

    from ..tracking.store import read_artifact
    from ..trajectory import ARTIFACT, read_arrays

    uri = getattr(client, "tracking_uri", None)
    run_id = run.info.run_id
    try:
        arrays = read_artifact(run_id, ARTIFACT, read_arrays, uri)
    except Exception:  # noqa: BLE001 - logging.trajectory=false, or a run that stopped before saving it
        return None
    cfg = None
    try:
        cfg = read_artifact(run_id, "config.yaml",
                            lambda path: OmegaConf.to_container(OmegaConf.load(path), resolve=True), uri)
    except Exception:  # noqa: BLE001 - no config artifact: the runs are drawn without a landscape
        pass
    return RunTrajectory(run_id, run.info.run_name or run_id, arrays,
                         objective_cfg=cfg.get("objective") if cfg else None,
                         optimizer=str((cfg or {}).get("optimizer", {}).get("name", "")), status=run.info.status)
