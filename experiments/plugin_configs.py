"""Config-group entries for optimizers installed by plugins, generated from their constructors' defaults.

``optimizer=<plugin name>`` then works with no file in ``configs/optimizer/``: the entry is ``name``, ``lr:
${lr}``, ``default_lr`` (the signature's ``lr``) and every other argument with a default, so each is overridable as
``optimizer.<arg>=...``. Built-ins keep their files (the files win: an entry is only stored for names without one).
Entries are registered in Hydra's ConfigStore before the config is composed; discovery reads installed metadata
and imports only the plugins that have no file (to read their signatures).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

from plugin_registry import OPTIMIZERS

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
_log = logging.getLogger(__name__)


def _config_value(value):
    """A value OmegaConf can hold (tuples become lists), or raise TypeError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [_config_value(v) for v in value]
    raise TypeError(type(value).__name__)


def plugin_entry(name: str) -> dict:
    """The config node of optimizer ``name`` from its signature (arguments whose default a config cannot hold,
    e.g. a function, are left to their default)."""
    defaults = OPTIMIZERS.signature_defaults(name)
    entry: dict = {"name": name}
    if "lr" in defaults:
        entry["lr"] = "${lr}"
        entry["default_lr"] = _config_value(defaults.pop("lr"))
    for key, value in defaults.items():
        try:
            entry[key] = _config_value(value)
        except TypeError:
            continue
    return entry


def register(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Store an ``optimizer`` group entry for every registered optimizer without a YAML file; returns their names.

    A plugin that fails to import is skipped with a warning here (choosing it then reports the import error).
    """
    from hydra.core.config_store import ConfigStore

    have_files = {p.stem for p in (config_dir / "optimizer").glob("*.yaml")}
    store = ConfigStore.instance()
    added = []
    for name in OPTIMIZERS.available():
        if name in have_files:
            continue
        try:
            node = plugin_entry(name)
        except Exception as error:  # noqa: BLE001 - a broken plugin must not break every other run
            warnings.warn(f"optimizer plugin {name!r} has no config entry: {error}", stacklevel=2)
            continue
        store.store(group="optimizer", name=name, node=node)
        added.append(name)
    register_study_sweeper()
    return added


STUDY_SWEEPER = "hydra_plugins.optimizer_trajectories.study_sweeper.StudySweeper"


@dataclass
class StudySweeperConf:
    """``hydra/sweeper: study``: Hydra's basic sweeper's keys, its class ours."""

    _target_: str = STUDY_SWEEPER
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None


def register_study_sweeper() -> None:
    """Store ``hydra/sweeper: study`` (configs/study/*.yaml select it; the class is in
    ``hydra_plugins/optimizer_trajectories/``). Stored here too, not only when Hydra scans its plugins, so that a
    study's config composes in a process whose ``sys.path`` lacks the project's folder (``python -m
    experiments.study``)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group="hydra/sweeper", name="study", node=StudySweeperConf,
                                 provider="optimizer-trajectories")
