"""The surface the paths are drawn on: the plane and the true loss over it.

- Two coordinates: the parameter plane itself.
- More: ONE plane shared by every run of a group, through the mean of all their recorded points and spanned by the
  two leading principal directions of those points together; the fraction of the paths' variance it holds is
  measured on every point.
- One coordinate: the loss as a curve of that coordinate.

The loss drawn is the true objective: ``objective.full_loss`` (the whole data set for minibatch objectives such as
logistic regression), never a step's minibatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID = 64  # loss evaluations per side of the landscape (GRID**2 in all)
PCA_ROWS = 600  # points per run used to find the plane (all of them are used to measure its variance)
LEVELS = 20


@dataclass
class Plane:
    kind: str  # "params" (the two coordinates themselves), "pca" or "line" (one coordinate)
    centre: np.ndarray  # (D,)
    basis: np.ndarray  # (2, D) orthonormal rows ((1, 1) for "line")
    axes: list[str]
    explained: tuple[float, float] | None = None  # the paths' variance along each axis, as fractions

    def project(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) - self.centre) @ self.basis.T

    def vectors(self, vectors: np.ndarray) -> np.ndarray:
        """Directions (gradients, updates) in plane coordinates."""
        return np.asarray(vectors, dtype=np.float64) @ self.basis.T

    def point(self, x: float, y: float = 0.0) -> np.ndarray:
        coords = np.array([x, y][: len(self.basis)])
        return self.centre + coords @ self.basis

    def describe(self) -> str:
        if self.kind == "params":
            return f"the parameter plane ({self.axes[0]}, {self.axes[1]})"
        if self.kind == "line":
            return f"the loss along the single coordinate {self.axes[0]}"
        first, second = self.explained
        return (f"the plane through the mean of every run's points, spanned by their two leading principal "
                f"directions: it holds {percent(first + second)} of the paths' variance (PC1 {percent(first)}, "
                f"PC2 {percent(second)})")


def percent(fraction: float) -> str:
    """One decimal, never rounded up to a whole 100% it is not."""
    text = f"{100 * fraction:.1f}%"
    return ">99.9%" if text == "100.0%" and fraction < 1 else text


def element_names(layout: list[tuple[str, tuple]]) -> list[str]:
    """``x[0]``, ``x[1]``, ``b`` ...: the flattened coordinates' names."""
    names = []
    for name, shape in layout:
        size = int(np.prod(shape))
        names += [name] if shape == () else [f"{name}[{i}]" for i in range(size)]
    return names


def shared_plane(layout, paths: list[np.ndarray]) -> Plane:
    """The plane of a group: its parameters when there are two, else the principal plane of all paths."""
    names = element_names(layout)
    dim = len(names)
    if dim == 1:
        return Plane("line", np.zeros(1), np.ones((1, 1)), names)
    if dim == 2:
        return Plane("params", np.zeros(2), np.eye(2), names)
    points = np.concatenate([p[np.isfinite(p).all(axis=1)] for p in paths])
    if not len(points):
        return Plane("pca", np.zeros(dim), np.eye(2, dim), ["PC1", "PC2"], (0.0, 0.0))
    centre = points.mean(axis=0)
    sample = np.concatenate([_thin_rows(p[np.isfinite(p).all(axis=1)], PCA_ROWS) for p in paths]) - centre
    basis = _leading_directions(sample, dim)
    first = paths[0][np.isfinite(paths[0]).all(axis=1)]
    if len(first) > 1 and (first[-1] - first[0]) @ basis[0] < 0:  # PC1 points the way the first run went
        basis[0] = -basis[0]
    centred = points - centre
    total = float(np.einsum("ij,ij->", centred, centred))
    along = np.sum((centred @ basis.T) ** 2, axis=0)
    explained = tuple(float(v / total) if total > 0 else 0.0 for v in along)
    return Plane("pca", centre, basis, [f"PC1 ({percent(explained[0])})", f"PC2 ({percent(explained[1])})"],
                 explained)


def _thin_rows(points: np.ndarray, count: int) -> np.ndarray:
    if len(points) <= count:
        return points
    return points[np.unique(np.linspace(0, len(points) - 1, count).round().astype(int))]


def _leading_directions(centred: np.ndarray, dim: int) -> np.ndarray:
    """The two leading right singular vectors (rows), exact for small problems, by subspace iteration beyond."""
    if not np.any(centred):
        return np.eye(2, dim)
    if min(centred.shape) <= 200:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
    else:  # a randomized range finder with power iterations (Halko et al. 2011): a few passes over the points
        rng = np.random.default_rng(0)
        q, _ = np.linalg.qr(centred @ rng.standard_normal((dim, 12)))
        for _ in range(6):
            q, _ = np.linalg.qr(centred @ (centred.T @ q))
        _, _, vt = np.linalg.svd(q.T @ centred, full_matrices=False)
    basis = np.zeros((2, dim))
    basis[: len(vt[:2])] = vt[:2]
    if len(vt) < 2:  # every point on one line: any orthogonal direction for the second axis
        spare = np.eye(dim)[np.argmin(np.abs(basis[0]))]
        basis[1] = spare - (spare @ basis[0]) * basis[0]
        basis[1] /= np.linalg.norm(basis[1])
    return basis


def window(plane: Plane, positions: list[np.ndarray], losses: list[np.ndarray], bounds=None):
    """``(x0, x1, y0, y1)``, square (equal aspect): the objective's own window, grown to hold the paths' points
    (the parts of a path that climbed far above every start are left outside, so a divergence does not shrink
    the rest to a dot)."""
    kept = []
    starts = [loss[0] for loss in losses if len(loss) and np.isfinite(loss[0])]
    finite = np.concatenate([loss[np.isfinite(loss)] for loss in losses]) if losses else np.zeros(0)
    ceiling = (max(starts) + (max(starts) - finite.min()) if starts and finite.size else np.inf)
    for xy, loss in zip(positions, losses):
        ok = np.isfinite(xy).all(axis=1) & np.isfinite(loss) & (loss <= ceiling)
        ok[:1] = np.isfinite(xy[:1]).all(axis=1)
        kept.append(xy[ok])
    points = np.concatenate(kept) if kept else np.zeros((0, 2))
    if bounds is not None:
        points = np.concatenate([points, np.array([[bounds[0][0], bounds[1][0]], [bounds[0][1], bounds[1][1]]])])
    if not len(points):
        return (-1.0, 1.0, -1.0, 1.0)
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    half = float(max(high - low)) / 2 * (1.0 if bounds is not None else 1.12)
    half = half if half > 0 else max(1.0, float(np.abs(centre).max()) * 0.1)
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def true_loss(objective):
    """The objective's full-data loss as a function of a dict of tensors (plugins without ``full_loss``: step 0's
    loss, which is the loss of an objective without minibatches)."""
    full = getattr(objective, "full_loss", None)
    return full if callable(full) else (lambda params: objective.loss(params, 0))


def loss_at(objective, layout, points: np.ndarray) -> np.ndarray:
    """The true loss at each row of ``points`` (flattened parameters), float64, NaN where it cannot be taken."""
    import autodiff as ad

    evaluate = true_loss(objective)
    out = np.full(len(points), np.nan)
    sizes = [int(np.prod(shape)) for _, shape in layout]
    cuts = np.cumsum(sizes)[:-1]
    with ad.no_grad(), np.errstate(all="ignore"):
        for i, point in enumerate(points):
            if not np.isfinite(point).all():
                continue
            parts = np.split(point, cuts)
            params = {name: ad.tensor(part.reshape(shape), dtype=ad.float64)
                      for (name, shape), part in zip(layout, parts)}
            try:
                out[i] = float(evaluate(params).item())
            except Exception:  # noqa: BLE001 - a point where the objective is undefined is left blank, not fatal
                pass
    return out


def loss_grid(objective, layout, plane: Plane, bounds, size: int = GRID) -> np.ndarray:
    """The true loss on a ``size`` x ``size`` grid over ``bounds`` of the plane (row i: y, column j: x); for a
    "line" plane, ``size`` values along x."""
    x0, x1, y0, y1 = bounds
    xs = np.linspace(x0, x1, size)
    if plane.kind == "line":
        return loss_at(objective, layout, plane.centre + xs[:, None] * plane.basis[0])
    ys = np.linspace(y0, y1, size)
    # a row at a time: the points of the whole grid would hold size**2 copies of every parameter (80 MB for a
    # network of 2,400 weights)
    return np.stack([loss_at(objective, layout, plane.centre + np.stack([xs, np.full(size, y)], axis=1) @ plane.basis)
                     for y in ys])


def levels(grid: np.ndarray, count: int = LEVELS) -> list[float]:
    """Contour levels at ``min + d`` for ``d`` spaced geometrically from the grid's lowest percent to its highest
    value (so the valleys of functions like Rosenbrock's, and the bowl around a minimum, show), as loss values."""
    finite = grid[np.isfinite(grid)]
    if not finite.size:
        return []
    low = float(finite.min())
    above = finite - low
    top = float(above.max())
    if top <= 0:
        return []
    bottom = max(float(np.quantile(above, 0.01)), top * 1e-4)
    if bottom <= 0 or bottom >= top:
        bottom = top * 1e-4
    return [low + float(d) for d in np.geomspace(bottom, top, count + 1)[:-1]]
