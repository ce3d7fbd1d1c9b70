"""The optimisation loop of one run and its recording: metrics through the tracked run's writer, trajectory rows,
checkpoints and the restore from one, and the run's trajectory and plots as artifacts.

Step semantics (fixed): at step t = 0..steps-1 the run records the parameters at which the gradient is taken, the
loss there, that gradient, and the optimizer's state right after the update that used it; after the last update it
records the final parameters and loss at step = steps. Each step is zero_grad, loss, backward, step (through a
closure, so LBFGS works too; the closure's first call returns the loss already computed).
"""

from __future__ import annotations

import math
import sys
import threading
from pathlib import Path

import numpy as np

from . import recording, signals
from .plots import coordinates
from .problem import Problem
from .studies.targets import STEPS_TO_TARGET
from .trajectory import ARTIFACT, TrajectoryBuffer


class Loop:
    """The optimisation loop and its recording (metrics through the tracked run's writer, trajectory rows)."""

    def __init__(self, cfg, problem: Problem, tracked, scratch: Path) -> None:
        self.cfg = cfg
        self.steps = int(cfg.steps)  # read once: a config lookup costs tens of microseconds, a step's budget
        self.problem = problem
        self.tracked = tracked
        self.scratch = Path(scratch)  # checkpoints, the trajectory and plots are written here before upload
        checkpoints = cfg.get("checkpoint") or {}
        self.checkpoint_every = int(checkpoints.get("every", 0))
        self.checkpoint_keep = int(checkpoints.get("keep", 2))
        self.checkpoints: list[str] = []  # artifact names of this process's checkpoints, oldest first
        self.history: list[str] = []  # artifact names of the recorded rows, a stretch per checkpoint, oldest first
        self.recorded = (0, 0, 0)  # trajectory rows, losses and path points saved in a stretch already
        self.waiting: list[_Waiting] = []  # checkpoints saved, logged once the points before them are stored
        self.waiting_lock = threading.Lock()  # the list is shared with the metrics writer's thread
        self.finished = False  # the last step's loss recorded, and finite: nothing left to resume
        self.start_step = 0
        self.skip: dict[str, int] = {}  # metric key -> latest step the store has (a resumed run logs later ones)
        log = cfg.logging
        self.every = int(log.every)
        self.metrics_on = bool(log.metrics)
        self.state_on = bool(log.state)
        self.recorder = recording.StepRecorder(int(log.max_elements))
        self.trajectory = TrajectoryBuffer() if log.trajectory else None
        self.names_by_id = {id(t): n for n, t in problem.params.items()}
        self.final_loss = math.nan
        self.best = (math.inf, -1)  # (lowest finite loss of any step so far, its step): the run's summary
        self.reached: int | None = None  # the first step meeting the study's target (problem.target), if any
        self.steps_done = 0
        self.failure: str | None = None
        # Kept only for the plots that use them, so memory grows with what is written: the loss curve, and the path
        # of an objective of two coordinates (the contour plot draws nothing else).
        self.keep_losses = bool(log.plots)
        self.keep_path = self.keep_losses and coordinates(problem.params) is not None
        self.losses: list[tuple[int, float]] = []
        self.path: list[np.ndarray] = []  # the flattened 2-D parameters at each recorded step

    def _progress(self, total: int):
        setting = str(self.cfg.logging.progress).lower()
        show = setting == "true" or (setting == "auto" and sys.stderr.isatty())
        if not show:
            return None
        from tqdm import tqdm

        return tqdm(total=total, initial=self.start_step, desc=str(self.cfg.optimizer.name), mininterval=0.5,
                    file=sys.stderr)

    def run(self) -> None:
        params, optimizer, scheduler = self.problem.params, self.problem.optimizer, self.problem.scheduler
        objective, noise = self.problem.objective, self.problem.noise
        steps = self.steps
        bar = self._progress(steps)
        # Overflow is reported by the run itself (FAILED, with where), not as numpy warnings.
        errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        errstate.__enter__()
        try:
            for step in range(self.start_step, steps):
                signals.check()  # Ctrl-C or SIGTERM takes effect here, between two steps
                optimizer.zero_grad()
                loss_tensor = objective.loss(params, step)
                loss_tensor.backward()
                if noise is not None:  # the optimizer, and what is recorded as the gradient, see the noisy one
                    noise.perturb(params, step)
                loss = float(loss_tensor.item())
                self._note_best(step, loss)
                grads = {n: (t.grad.numpy(force=True) if t.grad is not None else np.zeros_like(t.numpy(force=True)))
                         for n, t in params.items()}
                norm = recording.grad_norm(grads)
                finite = math.isfinite(loss) and math.isfinite(norm)
                recorded = step % self.every == 0 or not finite
                before = {n: t.numpy(force=True).copy() for n, t in params.items()} if recorded else None
                if not finite:
                    self._stop_non_finite(step, loss, before, grads, norm)
                    return
                lr = optimizer.param_groups[0].get("lr")
                optimizer.step(_first_call_returns(loss_tensor, optimizer, objective, params, step, noise))
                if scheduler is not None:
                    scheduler.step()
                if recorded:
                    wanted = self.state_on and (self.metrics_on or self.trajectory is not None)
                    state = recording.optimizer_state_arrays(optimizer, self.names_by_id) if wanted else {}
                    update = None
                    if self.metrics_on:  # the update's norm and cosine are metrics only
                        after = {n: t.numpy(force=True) for n, t in params.items()}
                        update = recording.update_measures(before, after, grads)
                    self._record(step, loss, before, grads, norm, lr, state, update)
                self.steps_done = step + 1
                if self.checkpoint_every and self.steps_done % self.checkpoint_every == 0 and self.steps_done < steps:
                    self.save_checkpoint(self.steps_done)
                if bar is not None:
                    bar.update(1)
            self._finish(steps)
        finally:
            errstate.__exit__(None, None, None)
            if bar is not None:
                bar.close()

    def _stop_non_finite(self, step: int, loss: float, params, grads, norm) -> None:
        """A non-finite loss or gradient at ``step``: that step recorded, the run FAILED saying where."""
        if not math.isfinite(loss):
            where = f"loss {loss!r}"
        else:
            where = recording.why_not_finite({f"grad/{n}": g for n, g in grads.items()}, norm)
        self._record(step, loss, params, grads, norm, None, None)
        self.final_loss, self.steps_done = loss, step
        self._record_summary(step)
        self.failure = f"non-finite {where} at step {step}"
        self.tracked.fail(self.failure)

    def _finish(self, steps: int) -> None:
        """After the last update: the final loss and parameters recorded at step ``steps``, the summary, and the
        checkpoints dropped (a finished run is not resumed) unless that loss is not finite."""
        import autodiff as ad

        params, objective = self.problem.params, self.problem.objective
        with ad.no_grad():
            loss = float(objective.loss(params, steps).item())
        final = {n: t.numpy(force=True) for n, t in params.items()}
        self._note_best(steps, loss)
        self._record(steps, loss, final, None, None, None, None)
        self.final_loss = loss
        self._record_summary(steps)
        if not math.isfinite(loss):
            self.failure = f"non-finite loss {loss!r} at step {steps} (after the last update)"
            self.tracked.fail(self.failure)
        else:
            self.finished = True  # its checkpoints are dropped once every point is stored (save_artifacts)

    def _note_best(self, step: int, loss: float) -> None:
        if loss < self.best[0]:  # NaN never is
            self.best = (loss, step)
        if self.reached is None and self.problem.target is not None and loss <= self.problem.target:
            self.reached = step

    def _record_summary(self, step: int) -> None:
        """The run's ``Summary/*`` metrics, once, at its last step: final loss (when finite), best loss and step
        (also with ``logging.metrics=false``: three points)."""
        keys, values = [], []
        if math.isfinite(self.final_loss):
            keys.append(recording.FINAL_LOSS)
            values.append(self.final_loss)
        if self.best[1] >= 0:
            keys += [recording.BEST_LOSS, recording.BEST_STEP]
            values += [self.best[0], float(self.best[1])]
        if self.reached is not None:  # never reached: not logged (a study counts the run as not solving it)
            keys.append(STEPS_TO_TARGET)
            values.append(float(self.reached))
        if self.skip:  # a resumed run that had logged its summary already
            keys, values = self._not_stored_yet(step, keys, values)
        if keys:
            self.tracked.log_metrics(step, keys, values)

    def _record(self, step, loss, params, grads, norm, lr, state, update=None) -> None:
        if self.keep_losses:
            self.losses.append((step, loss))
        if self.keep_path:
            self.path.append(np.concatenate([np.ravel(a) for a in params.values()]).astype(np.float64))
        if self.trajectory is not None:
            rows = {f"param/{n}": a for n, a in params.items()}
            if grads is not None:
                rows.update({f"grad/{n}": g for n, g in grads.items()})
            if lr is not None:
                rows["lr"] = np.float64(float(lr))
            if state:
                rows.update(state)
            self.trajectory.add(step, loss, rows)
        if not self.metrics_on:
            return
        objective = self.problem.objective
        keys, values = [recording.LOSS], [loss]
        scalars = ((recording.GRAD_NORM, norm), (recording.LR, lr),
                   (recording.UPDATE_NORM, update[0] if update else None),
                   (recording.UPDATE_COSINE, update[1] if update else None),
                   (recording.DISTANCE_TO_OPTIMUM, objective.distance_to_optimum(params)),
                   (recording.LOSS_GAP, objective.loss_gap(loss)))
        for key, value in scalars:
            if value is not None:
                keys.append(key)
                values.append(float(value))
        for key, value in recording.objective_measures(objective, params, step, step == self.steps).items():
            keys.append(key)
            values.append(value)
        for name, array in params.items():
            self.recorder.extend(keys, values, "param", name, array)
        for name, array in (grads or {}).items():
            self.recorder.extend(keys, values, "grad", name, array)
        for key, array in (state or {}).items():
            kind, _, name = key.rpartition("/")
            if recording.is_series(kind, array):
                self.recorder.extend(keys, values, kind, name, array)
        if self.skip:
            keys, values = self._not_stored_yet(step, keys, values)
            if not keys:
                return
        self.tracked.log_metrics(step, keys, values)

    def _not_stored_yet(self, step: int, keys: list, values: list) -> tuple[list, list]:
        """The points of ``step`` the store does not have (a resumed run replays steps it had partly logged)."""
        if step > max(self.skip.values()):
            self.skip = {}
            return keys, values
        kept = [(k, v) for k, v in zip(keys, values) if step > self.skip.get(k, -1)]
        return [k for k, _ in kept], [v for _, v in kept]

    # -- checkpoints (experiments.checkpoint) and resume (experiments.resume) ------------------------------------

    def state_tree(self, step: int) -> dict:
        """Everything needed to continue after ``step`` updates, bit for bit."""
        import autodiff as ad

        problem = self.problem
        return {
            "step": step,
            "params": {n: t.numpy(force=True) for n, t in problem.params.items()},
            "optimizer": problem.optimizer.state_dict(),
            "scheduler": problem.scheduler.state_dict() if problem.scheduler is not None else None,
            "autodiff_rng": ad.get_rng_state(),
            "numpy_rng": np.random.get_state(legacy=False),
            "history": list(self.history),
            "best": np.array(self.best, dtype=np.float64),
            "reached": np.array(-1 if self.reached is None else self.reached, dtype=np.int64),
        }

    def recorded_since(self) -> dict | None:
        """What was recorded for the artifacts (trajectory rows, loss curve, path) since the last checkpoint; None
        when nothing was (``logging.trajectory=false`` and no plots)."""
        rows, losses, path = self.recorded
        now = (len(self.trajectory) if self.trajectory is not None else 0, len(self.losses), len(self.path))
        if now == self.recorded:
            return None
        self.recorded = now
        return {
            "loss_steps": np.array([s for s, _ in self.losses[losses:]], dtype=np.int64),
            "losses": np.array([v for _, v in self.losses[losses:]], dtype=np.float64),
            "path": np.array(self.path[path:]) if len(self.path) > path else None,
            "trajectory": self.trajectory.state(rows) if self.trajectory is not None else None,
        }

    def save_checkpoint(self, step: int) -> None:
        """Save the state at ``step`` as ``checkpoint/step-<step>.npz``, and what was recorded since the last one
        as ``checkpoint/history-<step>.npz`` (a checkpoint names the stretches it continues from: each is written
        once, so the cost grows with the steps, not with their square). Both are logged by the metrics writer once
        every point added before them is stored or spooled (and the run's checkpoints beyond the newest ``keep``
        deleted then): a checkpoint never names a step whose points could be missing, and the loop does not wait.
        A store far behind keeps the oldest waiting checkpoint and the newest; every stretch is logged (none when
        nothing was recorded: ``logging.trajectory=false`` and no plots)."""
        from functools import partial

        from . import checkpoint

        recorded = self.recorded_since()
        if recorded is not None:
            stretch = checkpoint.save(recorded, self.scratch / checkpoint.history_name(step))
            self.history.append(stretch.name)
            self.tracked.writer.after_points(partial(self.tracked.log_artifact, stretch, checkpoint.ARTIFACT_DIR,
                                                     scratch=self.scratch))
        path = checkpoint.save(self.state_tree(step), self.scratch / checkpoint.artifact_name(step))
        waiting = _Waiting(self, step, path)
        with self.waiting_lock:
            if len(self.waiting) >= 2:  # a store far behind: the oldest waiting and the newest are kept
                self.waiting.pop().cancel()
            self.waiting.append(waiting)
        self.tracked.writer.after_points(waiting.publish)

    def publish_checkpoint(self, step: int, path: Path) -> None:
        """Log the checkpoint ``path`` of ``step`` (its points are stored) and keep the newest ``keep``."""
        from . import checkpoint

        self.tracked.log_artifact(path, checkpoint.ARTIFACT_DIR, scratch=self.scratch)
        self.tracked.set_tag("checkpoint_step", step)
        if path.name in self.checkpoints:
            self.checkpoints.remove(path.name)
        self.checkpoints.append(path.name)
        self.drop_checkpoints(keep=max(self.checkpoint_keep, 1))

    def drop_checkpoints(self, keep: int = 0) -> None:
        """Delete this run's checkpoints but the newest ``keep``; ``keep=0`` (the run finished): the folder."""
        from . import checkpoint

        if keep == 0:
            if self.checkpoints or self.history:  # the stretches of rows too (logged, maybe with no checkpoint)
                self.tracked.delete_artifact(checkpoint.ARTIFACT_DIR)
            self.checkpoints, self.history = [], []
        while len(self.checkpoints) > keep:
            self.tracked.delete_artifact(f"{checkpoint.ARTIFACT_DIR}/{self.checkpoints.pop(0)}")

    def restore(self, resumption) -> None:
        """Continue where ``resumption.state`` (a checkpoint's tree) left off, or from step 0 without one; points
        the store already holds are not logged again."""
        import autodiff as ad

        self.skip = dict(resumption.last_steps)
        self.checkpoints = list(resumption.checkpoints)
        state = resumption.state
        if state is None:
            return
        problem = self.problem
        for name, tensor in problem.params.items():
            tensor.numpy(force=True)[...] = state["params"][name]  # in place: the optimizer holds these tensors
        problem.optimizer.load_state_dict(state["optimizer"])
        if problem.scheduler is not None:
            problem.scheduler.load_state_dict(state["scheduler"])
        ad.set_rng_state(state["autodiff_rng"])
        np.random.set_state(state["numpy_rng"])
        # the stretches the checkpoint names, read by experiments.resume; an older checkpoint holds them itself
        parts = state["history_parts"] if "history" in state else [state]
        self.losses = [(int(s), float(v)) for part in parts for s, v in zip(part["loss_steps"], part["losses"])]
        self.path = [point for part in parts if part["path"] is not None for point in part["path"]]
        stretches = [part["trajectory"] for part in parts if part["trajectory"] is not None]
        if self.trajectory is not None and stretches:
            self.trajectory = TrajectoryBuffer.from_state(*stretches)
        self.history = list(state.get("history", []))
        if "history" in state:  # an older checkpoint's rows go whole into the next stretch
            self.recorded = (len(self.trajectory) if self.trajectory is not None else 0, len(self.losses),
                             len(self.path))
        if state.get("best") is not None:
            best_loss, best_step = (float(v) for v in state["best"])
            self.best = (best_loss, int(best_step))
        if state.get("reached") is not None and int(state["reached"]) >= 0:
            self.reached = int(state["reached"])
        self.start_step = self.steps_done = int(state["step"])

    def save_artifacts(self) -> None:
        """Trajectory and plots of whatever was recorded (also after a failure or Ctrl-C), then a finished run's
        checkpoints dropped."""
        try:
            self._save_artifacts()
        finally:
            self._settle_checkpoints()

    def _settle_checkpoints(self) -> None:
        """A finished run's checkpoints dropped once its points are all stored (a store that fails first keeps
        the ones logged before, and the run can be resumed)."""
        if self.finished and not signals.received():
            self.tracked.writer.flush()  # raises what the store said (a full disk): the run fails with it
            self.drop_checkpoints()

    def _save_artifacts(self) -> None:
        scratch = self.scratch
        if self.trajectory is not None and len(self.trajectory.steps):
            self.tracked.log_artifact(self.trajectory.save(scratch / ARTIFACT))
            if self.cfg.logging.plots and not signals.received():
                self.save_explorer()
        if self.cfg.logging.plots and self.losses and not signals.received():  # an interrupted run stops now
            from . import plots, rates

            title = f"{self.cfg.optimizer.name} on {self.cfg.objective.name}"
            # beside the measured loss, the rates theory predicts where they are known (the quadratic's)
            figure = plots.loss_figure([(title, self.losses)], references=rates.for_run(self.problem, self.losses))
            self.tracked.log_artifact(plots.save(figure, scratch / "loss.png"))
            if signals.received():
                return
            grid = plots.contour_grid(self.problem.objective, self.problem.params, [np.array(self.path)])
            if grid is not None and self.path:
                figure = plots.contour_figure(grid, [(title, np.array(self.path))], self.problem.objective)
                self.tracked.log_artifact(plots.save(figure, scratch / "contour.png"))

    def save_explorer(self) -> None:
        """The run's trajectory explorer, ``explorer.html`` (:mod:`experiments.explorer`)."""
        from . import explorer

        cfg = self.cfg
        try:
            path = explorer.run_page(self.scratch / explorer.ARTIFACT, self.trajectory.arrays(), cfg,
                                     self.problem.objective, self.tracked.run_id, f"{cfg.optimizer.name} lr={cfg.lr}",
                                     "FAILED" if self.failure else "FINISHED")
        except (OSError, MemoryError):
            raise  # a full disk or no memory left: the run's own handling says what was kept
        except Exception as error:  # noqa: BLE001 - a page that cannot be drawn does not undo the run it shows
            print(f"explorer.html was not written: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            return
        self.tracked.log_artifact(path)


def _first_call_returns(loss_tensor, optimizer, objective, params, step, noise=None):
    """A closure for ``optimizer.step``: the first call returns the loss (gradients already there); later calls
    (LBFGS's line search) re-evaluate at the current parameters, with the step's gradient noise."""
    calls = [0]

    def closure():
        calls[0] += 1
        if calls[0] == 1:
            return loss_tensor
        optimizer.zero_grad()
        loss = objective.loss(params, step)
        loss.backward()
        if noise is not None:
            noise.perturb(params, step)
        return loss

    return closure


class _Waiting:
    """A saved checkpoint waiting for the points before it: published by the writer's thread, unless cancelled
    (a newer one took its place) first."""

    def __init__(self, loop: Loop, step: int, path: Path) -> None:
        self.loop, self.step, self.path = loop, step, path
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self.path.unlink(missing_ok=True)

    def publish(self) -> None:
        with self.loop.waiting_lock:  # taken off the list first: never cancelled while being published
            if self.cancelled:
                return
            self.loop.waiting.remove(self)
        self.loop.publish_checkpoint(self.step, self.path)
