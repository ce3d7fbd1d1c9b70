"""What a page holds, as plain data: per run the exact recorded values the readout shows (in the run's dtype, as
little-endian binary in base64) and the path in its group's plane; per group the landscape.

Sizes stay within a budget: a page shows every recorded step's exact values for up to ``MAX_SHOWN`` elements of each
tensor (its norm beside, when it has more); past the budget it shows fewer elements, and only then fewer steps
(every s-th, which the page says). Paths and curves are thinned for drawing by the page itself.
"""

from __future__ import annotations

import base64
import math

import numpy as np

from . import landscape
from .runs import Group, RunTrajectory

MAX_SHOWN = 6
BASE64 = 4 / 3
FULL_LOSS_POINTS = 500  # full-data loss evaluations per run along its path (minibatch objectives)
FIXED_BYTES_PER_ROW = 4 + 8 + 8 + 3 * 2 * 4 + 4  # step, loss, lr, position/-lr*grad/update in the plane, cosine


def encode(array, dtype) -> dict:
    """``{"dtype": "f4"|"f8"|"i4", "b64": ...}``: the array's values, exact in ``dtype``, little-endian."""
    kind = np.dtype(dtype)
    data = np.ascontiguousarray(np.asarray(array, dtype=kind.newbyteorder("<")))
    return {"dtype": f"{kind.kind}{kind.itemsize}", "b64": base64.b64encode(data.tobytes()).decode("ascii")}


def tensors_of(run: RunTrajectory) -> list[tuple[str, str, np.ndarray]]:
    """``[(row label, parameter name, (k, n) array), ...]`` in readout order: per parameter its value, gradient,
    the update that followed, the effective step size -update/gradient, then each state tensor (state-key names)."""
    k = len(run.steps)
    state = run.state_keys()
    rows = []
    for name, _ in run.layout:
        param = np.asarray(run.arrays[f"param/{name}"]).reshape(k, -1)
        update = np.full(param.shape, np.nan, dtype=np.float64)
        update[:-1] = np.diff(param.astype(np.float64), axis=0)
        rows.append((f"param/{name}", name, param))
        if f"grad/{name}" in run.arrays:
            grad = np.asarray(run.arrays[f"grad/{name}"]).reshape(k, -1)
            rows.append((f"grad/{name}", name, grad))
            rows.append((f"update/{name}", name, update))
            with np.errstate(all="ignore"):
                rows.append((f"step size/{name}", name, -update / grad.astype(np.float64)))
        rows += [(f"{key}/{n}", n, np.asarray(run.arrays[f"{key}/{n}"]).reshape(k, -1)) for key, n in state
                 if n == name]
    return rows


def readout_plan(runs: list[RunTrajectory], budget: int) -> tuple[int, int]:
    """``(elements shown per tensor, stride)``: the most elements, then the most steps, that fit ``budget``
    bytes for all runs together."""
    def size(shown: int, stride: int) -> float:
        total = 0.0
        for run in runs:
            rows = math.ceil(len(run.steps) / stride) + 1
            per_row = FIXED_BYTES_PER_ROW
            for _, _, values in tensors_of_shapes(run):
                per_row += min(values, shown) * run.dtype.itemsize + (4 if values > shown else 0)
            total += rows * per_row * BASE64
        return total

    for shown in (MAX_SHOWN, 3, 1):
        if size(shown, 1) <= budget:
            return shown, 1
    return 1, max(1, math.ceil(size(1, 1) / budget))


def tensors_of_shapes(run: RunTrajectory) -> list[tuple[str, str, int]]:
    """What :func:`tensors_of` would give, as element counts only (cheap: no array is built)."""
    out = []
    for name, shape in run.layout:
        n = int(np.prod(shape))
        out.append(("param", name, n))
        if f"grad/{name}" in run.arrays:
            out += [("grad", name, n), ("update", name, n), ("step size", name, n)]
        out += [(key, name, int(np.prod(run.arrays[f"{key}/{name}"].shape[1:])))
                for key, nm in run.state_keys() if nm == name]
    return out


def kept_rows(k: int, stride: int) -> np.ndarray:
    return np.unique(np.r_[np.arange(0, k, stride), k - 1]) if k else np.zeros(0, dtype=int)


def run_payload(run: RunTrajectory, plane: landscape.Plane, shown: int, stride: int) -> dict:
    """One run's readout values and its path in ``plane``."""
    params, grads = run.flat("param"), run.flat("grad")
    k = len(params)
    updates = np.full_like(params, np.nan)
    updates[:-1] = np.diff(params, axis=0)
    lr = np.asarray(run.arrays["lr"], dtype=np.float64) if "lr" in run.arrays else np.full(k, np.nan)
    scale = np.where(np.isfinite(lr), lr, np.nan)[:, None]
    with np.errstate(all="ignore"):
        dots = np.einsum("ij,ij->i", -grads, updates)
        cosine = dots / (np.linalg.norm(grads, axis=1) * np.linalg.norm(updates, axis=1))
    rows = kept_rows(k, stride)
    dtype = run.dtype
    tensors = []
    for label, name, values in tensors_of(run):
        count = values.shape[1]
        entry = {"label": label, "param": name, "size": count,
                 "values": encode(values[rows, :shown], dtype if label.split("/")[0] != "step size" else "f4"),
                 "shown": min(count, shown)}
        if count > shown:
            with np.errstate(all="ignore"):
                entry["norm"] = encode(np.linalg.norm(values[rows].astype(np.float64), axis=1), "f4")
        tensors.append(entry)
    return {
        "id": run.run_id, "name": run.name, "optimizer": run.optimizer, "status": run.status,
        "dtype": str(dtype), "rows": len(rows), "stride": stride, "recorded": k,
        "step": encode(run.steps[rows], "i4"), "loss": encode(run.losses[rows], "f8"),
        "lr": encode(lr[rows], "f8") if "lr" in run.arrays else None,
        "pos": encode(_plane_positions(plane, params, run.losses)[rows], "f4"),
        "descent": encode(plane.vectors(-grads * scale)[rows] if plane.kind != "line" else
                          np.c_[-grads * scale, np.zeros(k)][rows], "f4"),
        "update": encode(plane.vectors(updates)[rows] if plane.kind != "line" else
                         np.c_[updates, np.zeros(k)][rows], "f4"),
        "cos": encode(cosine[rows], "f4"),
        "tensors": tensors,
    }


def _plane_positions(plane: landscape.Plane, params: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """(k, 2): the point in the plane; for a single coordinate, (coordinate, loss)."""
    if plane.kind == "line":
        return np.c_[params[:, 0], losses]
    return plane.project(params)


def group_payload(group: Group, runs: list[RunTrajectory], grid_size: int = landscape.GRID):
    """``(payload, plane)`` of a group: its plane, window and the true loss over it."""
    members = [runs[i] for i in group.runs]
    layout = members[0].layout
    plane = landscape.shared_plane(layout, [r.flat("param") for r in members])
    positions = [_plane_positions(plane, r.flat("param"), r.losses) for r in members]
    bounds = getattr(group.objective, "plot_bounds", None) if plane.kind == "params" else None
    if plane.kind == "line":
        window = landscape.window(plane, [np.c_[p[:, 0], np.zeros(len(p))] for p in positions],
                                  [r.losses for r in members])
    else:
        window = landscape.window(plane, positions, [r.losses for r in members], bounds)
    description = plane.describe()
    if plane.kind == "pca":
        description += ("; the paths are projected onto it, and off the plane the loss differs from the surface "
                        "drawn under them (the curves and the readout give each step's own loss)")
    out = {"label": group.label, "kind": plane.kind, "axes": plane.axes, "plane": description,
           "window": list(window), "runs": group.runs, "explained": plane.explained, "problem": group.problem,
           "minibatches": bool(getattr(group.objective, "minibatches", False)), "grid": None, "optima": []}
    if group.objective is not None:
        grid = landscape.loss_grid(group.objective, layout, plane, window, grid_size)
        out.update(grid=encode(grid, "f4"), size=grid_size, levels=landscape.levels(grid))
        if plane.kind == "line":
            out["curve_y"] = _finite_range(grid, [r.losses for r in members])
        out["optima"] = _optima(group.objective, layout, plane)
    return out, plane


def _finite_range(curve: np.ndarray, losses: list[np.ndarray]) -> list[float]:
    values = np.concatenate([curve[np.isfinite(curve)]] + [v[np.isfinite(v)] for v in losses])
    return [float(values.min()), float(values.max())] if values.size else [0.0, 1.0]


def _optima(objective, layout, plane: landscape.Plane) -> list[list[float]]:
    out = []
    for optimum in getattr(objective, "optima", None) or []:
        try:
            point = np.concatenate([np.ravel(np.asarray(optimum[name], dtype=np.float64)) for name, _ in layout])
        except (KeyError, ValueError):
            continue
        if plane.kind == "line":
            loss = landscape.loss_at(objective, layout, point[None])[0]
            out.append([float(point[0]), float(loss)])
        else:
            out.append([float(v) for v in plane.project(point[None])[0]])
    return out


def full_loss_along(run: RunTrajectory, objective) -> dict:
    """The true (full-data) loss at up to ``FULL_LOSS_POINTS`` recorded steps of ``run``, evenly spaced."""
    k = len(run.steps)
    rows = kept_rows(k, max(1, math.ceil(k / FULL_LOSS_POINTS)))
    values = landscape.loss_at(objective, run.layout, run.flat("param")[rows])
    return {"step": encode(run.steps[rows], "i4"), "value": encode(values, "f8")}
