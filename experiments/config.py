"""Checks and views of a run's config: validated before anything runs, flattened into MLflow params."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError

DTYPES = ("float32", "float64")
MAX_SEED = 2**64 - 1  # torch.manual_seed's range (autodiff.manual_seed: "Overflow when unpacking long long" above)
RUN_ID = re.compile(r"[0-9a-f]{32}")  # an MLflow run id; nothing else may name a run's folders


def plain(cfg) -> Any:
    """``cfg`` resolved into plain dicts and lists (a ConfigError naming the key when an interpolation fails)."""
    from omegaconf import DictConfig, ListConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(cfg, (DictConfig, ListConfig)):
        return dict(cfg) if isinstance(cfg, Mapping) else cfg
    try:
        out = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as error:
        from .hydra_errors import INTERPOLATION_HINT, paragraph

        raise ConfigError(f"The config does not resolve: {paragraph(error)} {INTERPOLATION_HINT}") from None
    if isinstance(out, dict):
        out.pop("hydra", None)
    return out


def flatten(tree: Any, prefix: str = "") -> dict[str, str]:
    """``{"optimizer": {"betas": [0.9, 0.999]}}`` -> ``{"optimizer.betas": "[0.9, 0.999]"}`` (MLflow params)."""
    out: dict[str, str] = {}
    if isinstance(tree, Mapping):
        if not tree and prefix:
            out[prefix] = "{}"
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    else:
        out[prefix] = "null" if tree is None else str(tree)
    return out


EXPERIMENT_KEYS = ("optimizer", "objective", "scheduler", "steps", "seed", "dtype")  # what makes a run what it is
PLUMBING = {"optimizer": ("default_lr",)}  # kept in config.yaml only (optimizer.lr holds the rate used)
# torch's implementation switches: they choose how a step is computed, not what it computes, so they are params
# only when set (fused=true or foreach=true is worth telling apart; None and False, the defaults, are noise)
IMPLEMENTATION_FLAGS = {"optimizer": ("foreach", "fused", "capturable", "differentiable")}


def experiment_params(resolved: Mapping) -> dict[str, str]:
    """The MLflow params of a run: what defines the experiment (the optimizer's hyperparameters, the objective's
    settings, the scheduler's, ``steps``, ``seed``, ``dtype``; torch's implementation switches only when set),
    flattened. Where and how it is recorded
    (``tracking``, ``logging``, ``checkpoint``, ``limits``, ``resume``, ``sweep``) is in the ``config.yaml`` artifact
    only. :func:`config_hash` of them is the run's identity (its tag ``config_hash``)."""
    kept = {}
    for key in EXPERIMENT_KEYS:
        if key not in resolved:
            continue
        value = resolved[key]
        if isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if k not in PLUMBING.get(key, ())
                     and not (k in IMPLEMENTATION_FLAGS.get(key, ()) and not v)}
        kept[key] = value
    return flatten(kept)


CONFIG_HASH_TAG = "config_hash"


def config_hash(params: Mapping[str, str]) -> str:
    """A run's identity: the SHA-256 of its params (:func:`experiment_params`, the keys that decide its trajectory,
    as MLflow shows them), written as the JSON list of their ``[key, value]`` pairs sorted by key. The same
    configuration gives the same hash in any process on any machine; where and how the run is recorded, and how it
    is launched, are not in it."""
    import hashlib
    import json

    text = json.dumps(sorted(params.items()), ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _integer(cfg, key: str, minimum: int, meaning: str) -> None:
    value = cfg.get(key) if isinstance(cfg, Mapping) or hasattr(cfg, "get") else None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key}={value!r} is not allowed: {meaning} must be an integer >= {minimum}.")


def validate(cfg) -> None:
    """The runner's own keys (the optimizer and objective groups are checked by building them)."""
    _integer(cfg, "steps", 0, "the number of optimizer steps")
    _integer(cfg, "seed", 0, "the seed")
    _integer(cfg, "repeats", 1, "the number of seeds per configuration")
    last = cfg.get("seed") + cfg.get("repeats") - 1
    if last > MAX_SEED:
        raise ConfigError(f"seed={cfg.get('seed')} is not allowed: seeds run from 0 to 2**64-1 = {MAX_SEED} (torch's "
                          f"range), and this run would use {'up to ' if last != cfg.get('seed') else ''}{last}.")
    if cfg.get("dtype") not in DTYPES:
        raise ConfigError(f"dtype={cfg.get('dtype')!r} is not allowed. Allowed: {', '.join(DTYPES)}.")
    logging = cfg.logging
    for key, minimum in (("every", 1), ("max_elements", 0)):
        value = logging.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"logging.{key}={value!r} is not allowed: it must be an integer >= {minimum}.")
    if str(logging.get("progress")).lower() not in ("auto", "true", "false"):
        raise ConfigError(f"logging.progress={logging.get('progress')!r} is not allowed. Allowed: auto, true, false.")
    tracking = cfg.tracking
    if not isinstance(tracking.get("spool", False), bool):
        raise ConfigError(f"tracking.spool={tracking.get('spool')!r} is not allowed. Allowed: true, false.")
    for key, minimum in (("retry_timeout", 0), ("http_timeout", 1), ("lock_timeout", 0), ("lease_heartbeat", 1),
                         ("lease_timeout", 2)):
        value = tracking.get(key, minimum)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= minimum:
            raise ConfigError(f"tracking.{key}={value!r} is not allowed: it must be a number of seconds >= {minimum}.")
    checkpoint = cfg.get("checkpoint") or {}
    for key, minimum in (("every", 0), ("keep", 1)):
        value = checkpoint.get(key, minimum)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"checkpoint.{key}={value!r} is not allowed: it must be an integer >= {minimum}.")
    resume = cfg.get("resume")
    if resume is not None and not (isinstance(resume, str) and RUN_ID.fullmatch(resume)):
        raise ConfigError(f"resume={resume!r} is not allowed: give the id of the run to continue, 32 hexadecimal "
                          "characters as the summary line and the MLflow UI show it (in quotes if it reads as a "
                          "number: resume=\"'0123...'\"), or null. Nothing was read or changed.")
    limits = cfg.get("limits") or {}
    for key in ("check", "confirm"):
        if not isinstance(limits.get(key, key == "check"), bool):
            raise ConfigError(f"limits.{key}={limits.get(key)!r} is not allowed. Allowed: true, false.")
    threshold = limits.get("confirm_above_gb", 10)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not threshold >= 0:
        raise ConfigError(f"limits.confirm_above_gb={threshold!r} is not allowed: it must be a number of GB >= 0.")
    rerun = (cfg.get("sweep") or {}).get("rerun", "unfinished")
    if rerun not in ("unfinished", "all"):
        raise ConfigError(f"sweep.rerun={rerun!r} is not allowed. Allowed: unfinished (a sweep run again skips the "
                          "configurations an earlier run finished and resumes those it left unfinished), all (every "
                          "configuration runs anew).")
    if not isinstance(cfg.get("resume_force", False), bool):
        raise ConfigError(f"resume_force={cfg.get('resume_force')!r} is not allowed. Allowed: true, false.")
    heartbeat, timeout = tracking.get("lease_heartbeat", 30), tracking.get("lease_timeout", 90)
    if timeout < 2 * heartbeat:
        raise ConfigError(f"tracking.lease_timeout={timeout!r} with tracking.lease_heartbeat={heartbeat!r} is not "
                          "allowed: the lease must outlast two heartbeats (lease_timeout >= 2 * lease_heartbeat), "
                          "or a live run would look dead whenever one renewal is late.")
    if resume is not None and cfg.get("repeats", 1) != 1:
        raise ConfigError(f"resume={resume} with repeats={cfg.get('repeats')} is not allowed: a resume continues one "
                          "run; give repeats=1 (or resume each run of the repeats by its own id).")
    batch = cfg.tracking.get("batch_size")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 1000:
        raise ConfigError(f"tracking.batch_size={batch!r} is not allowed: an integer from 1 to 1000 (MLflow's "
                          "log_batch limit).")
