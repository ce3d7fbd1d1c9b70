"""Hydra's and OmegaConf's own errors about the command line, as the runner's one-paragraph ConfigError.

Hydra reports a bad override (``foo=1``, ``x==``, ``scheduler=unknown``, ``lr=${nope}``, an unquoted non-ASCII
value, ...) as a multi-line message or a traceback and exits 1. ``run.py`` lets Hydra raise them
(``HYDRA_FULL_ERROR=1``) and turns them here into one paragraph: what was wrong, where, and what is allowed; the
command then exits 2 like any other bad input. An exception that did not come from parsing or composing the
config (a bug in a task) is not translated: it keeps its traceback.
"""

from __future__ import annotations

import difflib
import re
import traceback

from .errors import ConfigError

GRAMMAR = "https://hydra.cc/docs/advanced/override_grammar/basic/"
INTERPOLATION_HINT = "An interpolation ${...} must name a key of the config (e.g. lr=${optimizer.default_lr})."
_NOISE = re.compile(r"^\s*(full_key|object_type|reference_type|config_group|provider)=?:?.*$|^See https://hydra\.cc.*$",
                    re.IGNORECASE)


def is_config_error(error: BaseException) -> bool:
    """Whether ``error`` was raised while Hydra parsed the command line or composed the config (not by a task)."""
    from hydra.errors import HydraException, InstantiationException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(error, InstantiationException):  # a callback or plugin that does not load: a bug, not input
        return False
    if isinstance(error, (HydraException, OmegaConfBaseException)):
        return True
    frames = traceback.extract_tb(error.__traceback__)
    if isinstance(error, OSError):  # Hydra's output folder (outputs/..., multirun/...) cannot be made
        return any("/hydra/" in frame.filename for frame in frames)
    if isinstance(error, (ValueError, TypeError, KeyError)):
        return bool(frames) and any(part in frames[-1].filename for part in ("/hydra/", "/omegaconf/"))
    return False


def _lines(text: str) -> list[str]:
    return [line.strip() for line in str(text).splitlines() if line.strip() and not _NOISE.match(line)]


def _missing_config(error) -> str:
    """``Could not find 'scheduler/unknown'``: the group's choices and the closest one."""
    group, _, name = str(error.missing_cfg_file or "").rpartition("/")
    options = sorted(error.options or [])
    if not group or not options:
        return " ".join(_lines(str(error).split("Config search path:")[0]))
    close = difflib.get_close_matches(name, options, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return (f"{group}={name}: there is no '{name}' in the config group '{group}' (configs/{group}/).{hint} "
            f"Available: {', '.join(options)}.")


def _override_parse(error) -> str:
    """A line Hydra's override grammar cannot read; the usual cause is a character it does not take unquoted."""
    override = error.override or ""
    unusual = sorted({c for c in override if not (c.isascii() and (c.isprintable() or c == " "))})
    detail = "; ".join(_lines(error.message)) or str(error)
    if unusual:
        key, _, value = override.partition("=")
        return (f"{override}: Hydra cannot read this override: the character(s) {' '.join(unusual)} must be inside "
                f"quotes. Write it as {key}='{value}' (in a shell: \"{key}='{value}'\"). Grammar: {GRAMMAR}")
    return (f"{override}: Hydra cannot read this override ({detail}). Allowed: key=value, +key=value, ~key; "
            f"grammar: {GRAMMAR}")


def paragraph(error: BaseException) -> str:
    """``error``'s message (and its cause's) on one line, without OmegaConf's ``full_key:``/``object_type=`` lines;
    prefixed by the key it is about when OmegaConf says."""
    parts = _lines(str(error))
    cause = error.__cause__
    if cause is not None and str(cause) not in str(error):
        parts += _lines(str(cause))
    text = " ".join(p if p.endswith((".", ":", "?")) else p + "." for p in parts) or type(error).__name__
    key = getattr(error, "full_key", None)
    return f"{key}: {text}" if key else text


def _closest_key(error: BaseException) -> str:
    """`` Did you mean 'optimizer.lr'?`` for an unknown key, from the keys beside it in the composed config (the
    node OmegaConf looked in); "" when none is close."""
    key, parent = getattr(error, "key", None), getattr(error, "parent_node", None)
    if not isinstance(key, str) or parent is None or not hasattr(parent, "keys"):
        return ""
    beside = [str(k) for k in parent.keys() if str(k) != "hydra"]
    close = difflib.get_close_matches(key, beside, n=1, cutoff=0.6)
    if not close:
        return ""
    full_key = str(getattr(error, "full_key", None) or key)
    prefix = full_key[: len(full_key) - len(key)]
    return f" Did you mean '{prefix}{close[0]}'?"


def translate(error: BaseException) -> ConfigError:
    """The one-paragraph ConfigError for a Hydra/OmegaConf error about the command line or the config."""
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import InterpolationKeyError, InterpolationResolutionError

    if isinstance(error, OSError) and not isinstance(error, MissingConfigException):  # that one is an IOError too
        return ConfigError(
            f"Hydra cannot write its output folder ({error.strerror or error}: {error.filename}), so nothing was run. "
            "Run from a folder that can be written to, or set hydra.run.dir=<folder> (hydra.sweep.dir=<folder> "
            "with -m) and tracking.uri= to places that can be written to.")
    if isinstance(error, MissingConfigException):
        return ConfigError(_missing_config(error))
    if isinstance(error, OverrideParseException):
        return ConfigError(_override_parse(error))
    text = paragraph(error)
    if isinstance(error, (InterpolationKeyError, InterpolationResolutionError)) or "interpolation" in text.lower():
        text += f" {INTERPOLATION_HINT}"
    elif "is not in struct" in text or "not in 'HydraConf'" in text:
        text += _closest_key(error.__cause__ or error)
        text += " Keys are those of `python run.py --cfg job` (and `--cfg hydra`); add a new key with +key=value."
    return ConfigError(f"The command line does not make a valid config: {text}")
