"""The runner page's configuration reference (docs/runner.md) names every key of the composed default config, and
only keys that exist: a key added to configs/ without a row here fails."""
from __future__ import annotations

import re

import pytest

from docs_text import ROOT, section

pytest.importorskip("hydra")

# Groups whose keys are the chosen file's own (an optimizer's arguments, an objective's keys): one row each.
GROUPS = ("optimizer", "objective", "scheduler")
# Groups chosen only on request (`experiment=...`, `hparams_search=...`): rows of their own, absent by default.
OPTIONAL = ("experiment", "hparams_search", "study")


def documented_keys() -> set[str]:
    """The keys of the reference table's first column (`a.b`, and `.c` read as a sibling of the cell's first key)."""
    keys = set()
    for row in section("docs/runner.md", "Configuration reference").splitlines():
        cells = row.split("|")
        if not row.startswith("| `") or len(cells) < 3:
            continue
        names = re.findall(r"`([^`]+)`", cells[1])
        prefix = names[0].rpartition(".")[0]
        keys |= {f"{prefix}{name}" if name.startswith(".") else name for name in names}
    return keys


def composed_keys() -> set[str]:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config"), resolve=False)
    keys = set()
    for key, value in cfg.items():
        if isinstance(value, dict) and key not in GROUPS:
            keys |= {f"{key}.{sub}" for sub in value}
        else:
            keys.add(key)
    own = OmegaConf.to_container(OmegaConf.load(ROOT / "configs" / "config.yaml"))
    for group in GROUPS:  # keys config.yaml gives a group whatever its choice (objective.gradient_noise): a row each
        keys |= {f"{group}.{sub}" for sub in own.get(group) or {}}
    return keys


def test_every_config_key_is_documented():
    assert composed_keys() - documented_keys() == set()


def test_every_documented_key_exists():
    assert documented_keys() - composed_keys() - set(GROUPS) - set(OPTIONAL) == set()
