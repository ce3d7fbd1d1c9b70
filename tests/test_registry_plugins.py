"""The registry with real installed distributions: the example plugin, a broken plugin and a name clash.

Each distribution is built into a wheel with ``pip wheel`` and installed with ``pip install --target`` into
its own directory; checks run in a fresh interpreter whose PYTHONPATH holds the chosen directories, so
importlib.metadata discovers exactly those plugins (plus the project itself, installed in the environment).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from docs_text import section
from support import distributions

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PLUGIN = ROOT / "examples" / "plugin"


# End-to-end (the plugins are built into wheels and installed by pip): out of the quick subset `-m "not slow"`.
pytestmark = pytest.mark.slow


def documented_plugin_files() -> dict[str, str]:
    """The files of the documented example plugin: code blocks of docs/optimizers.md's "Writing a plugin" section
    starting ``# file: <path>``."""
    text = section("docs/optimizers.md", "Writing a plugin")
    blocks = re.findall(r"```(?:toml|python)\n# file: (\S+)\n(.*?)```", text, flags=re.S)
    return {path: body for path, body in blocks}


BROKEN = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "autodiff-optimizer-broken"
        version = "0.3.1"
        [tool.setuptools]
        py-modules = ["broken_optimizer", "broken_optimizer_ok"]
        [project.entry-points."autodiff.optimizers"]
        broken = "broken_optimizer:Broken"
        missing = "broken_optimizer_ok:DoesNotExist"
        notaclass = "broken_optimizer_ok:helper"
        [project.entry-points."autodiff.test_widgets"]
        Widget = "broken_optimizer_ok:helper"
        gadget = "broken_optimizer:Broken"
    """,
    "broken_optimizer.py": """
        raise ImportError("broken_optimizer needs the package 'fancy_kernels', which is not installed")
    """,
    "broken_optimizer_ok.py": """
        def helper():
            return 42
    """,
}
SIGNSGD_BODY = """
    import autodiff
    from optimizers import Optimizer

    class SignSGD(Optimizer):
        SOURCE = {source!r}

        def __init__(self, params, lr=0.01):
            super().__init__(params, dict(lr=lr))

        @autodiff.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.sub_(p.grad.sign(), alpha=group["lr"])
"""
# Two distributions claim "signsgd" (one spells it "SignSGD"); the second also claims the built-in "adam".
SIGNSGD_A = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "autodiff-optimizer-signsgd"
        version = "1.0.0"
        [tool.setuptools]
        py-modules = ["signsgd_a"]
        [project.entry-points."autodiff.optimizers"]
        signsgd = "signsgd_a:SignSGD"
    """,
    "signsgd_a.py": SIGNSGD_BODY.format(source="a"),
}
SIGNSGD_B = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "fast-signsgd"
        version = "2.0.0"
        [tool.setuptools]
        py-modules = ["signsgd_b"]
        [project.entry-points."autodiff.optimizers"]
        SignSGD = "signsgd_b:SignSGD"
        adam = "signsgd_b:SignSGD"
    """,
    "signsgd_b.py": SIGNSGD_BODY.format(source="b"),
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """name -> a directory holding that distribution installed by pip (``--target``)."""
    base = tmp_path_factory.mktemp("plugins")
    files = {"broken": BROKEN, "signsgd_a": SIGNSGD_A, "signsgd_b": SIGNSGD_B, "signum": documented_plugin_files()}
    sources = {"adan": (distributions.copy_sources(EXAMPLE_PLUGIN, base / "src" / "adan"), "autodiff_optimizer_adan")}
    prefixes = {"broken": "autodiff_optimizer_broken", "signsgd_a": "autodiff_optimizer_signsgd",
                "signsgd_b": "fast_signsgd", "signum": "autodiff_optimizer_signum"}
    for name, text in files.items():
        sources[name] = (distributions.write_sources(base / "src" / name, text), prefixes[name])
    return distributions.install(base, sources)


def in_fresh_python(code: str, *paths: Path) -> dict:
    """Run ``code`` in a new interpreter that sees ``paths``; it prints one JSON object, returned here."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, paths)))
    prelude = "import json, sys, warnings\nfrom optimizers import registry\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


BUILTINS = sorted(
    "sgd adam adamw adamax nadam radam rmsprop rprop adagrad adadelta asgd adafactor lbfgs muon lion adabelief".split()
)


def test_the_example_plugin_is_listed_without_being_imported(installed):
    out = in_fresh_python(
        """
        names = registry.available()
        print(json.dumps({"names": names, "imported": "autodiff_optimizer_adan" in sys.modules,
                          "origin": list(vars(registry.origin("ADAN")).values())}))
        """,
        installed["adan"],
    )
    assert out["names"] == sorted(BUILTINS + ["adan"])
    assert out["imported"] is False
    assert out["origin"] == ["adan", "autodiff-optimizer-adan", "0.1.0", "adan = autodiff_optimizer_adan:Adan"]


ADAN_RUNS = {
    "proximal_decay": dict(lr=0.1, betas=[0.9, 0.9, 0.99], weight_decay=0.01),
    "decoupled_decay": dict(lr=0.05, weight_decay=0.2, no_prox=True),
    "maximize": dict(lr=0.02, eps=1e-3, maximize=True),
}


def test_the_example_plugin_is_created_and_steps(installed):
    out = in_fresh_python(
        f"""
        import autodiff
        runs = {{}}
        for label, hyperparameters in {ADAN_RUNS!r}.items():
            w = autodiff.tensor([1.0, -2.0, 0.5], dtype=autodiff.float64, requires_grad=True)
            opt = registry.create("adan", [w], **hyperparameters)
            sign = -1.0 if hyperparameters.get("maximize") else 1.0
            trajectory = []
            for _ in range(6):
                opt.zero_grad()
                (sign * ((w * w * w).sum() + (w * w).sum())).backward()
                opt.step()
                trajectory.append(w.tolist())
            runs[label] = {{
                "trajectory": trajectory,
                "state": {{k: v if isinstance(v, int) else v.tolist() for k, v in opt.state[w].items()}},
            }}
        print(json.dumps({{
            "class": type(opt).__module__ + "." + type(opt).__name__,
            "repr": repr(registry.create("adan", [w], betas=[0.9, 0.9, 0.99])),
            "defaults": {{k: list(v) if isinstance(v, tuple) else v
                         for k, v in registry.signature_defaults("adan").items()}},
            "betas_type": type(registry.create("adan", [w], betas=[0.9, 0.9, 0.99]).defaults["betas"]).__name__,
            "same_class": registry.get("adan") is registry.get(registry.get("adan")),
            "runs": runs,
        }}))
        """,
        installed["adan"],
    )
    assert out["class"] == "autodiff_optimizer_adan.adan.Adan"
    assert out["same_class"] is True
    assert out["betas_type"] == "tuple"  # a list from a config file comes back as the tuple torch prints
    assert "    betas: (0.9, 0.9, 0.99)\n" in out["repr"] and out["repr"].startswith("Adan (\nParameter Group 0\n")
    assert out["defaults"] == {
        "lr": 1e-3, "betas": [0.98, 0.92, 0.99], "eps": 1e-8, "weight_decay": 0.0, "no_prox": False, "maximize": False
    }
    for label, hyperparameters in ADAN_RUNS.items():
        run = out["runs"][label]
        assert sorted(run["state"]) == ["exp_avg", "exp_avg_diff", "exp_avg_sq", "prev_grad", "step"]
        trajectory, state = adan_reference([1.0, -2.0, 0.5], 6, **hyperparameters)
        for got, want in zip(run["trajectory"], trajectory, strict=True):
            assert got == pytest.approx(want, rel=1e-12), label
        for key, value in state.items():
            assert run["state"][key] == pytest.approx(value, rel=1e-12), (label, key)


def adan_reference(start, steps, lr, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, no_prox=False,
                   maximize=False):
    """Adan written out with numpy, per the formulas in the plugin's docstring (paper's Algorithm 1), on
    f = sum(w^3 + w^2) (its negative, maximised, when ``maximize``)."""
    import numpy as np

    b1, b2, b3 = betas
    theta = np.array(start, dtype=np.float64)
    m, v, n, prev = (np.zeros_like(theta) for _ in range(4))
    trajectory = []
    for t in range(1, steps + 1):
        g = 3 * theta**2 + 2 * theta  # the gradient of f; maximising -f follows -(-g) = g as well
        diff = np.zeros_like(g) if t == 1 else g - prev
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * diff
        n = b3 * n + (1 - b3) * (g + b2 * diff) ** 2
        u = m / (1 - b1**t) + b2 * v / (1 - b2**t)
        d = np.sqrt(n) / np.sqrt(1 - b3**t) + eps
        if no_prox:
            theta = theta * (1 - lr * weight_decay) - lr * u / d
        else:
            theta = (theta - lr * u / d) / (1 + lr * weight_decay)
        prev = g
        trajectory.append(theta.tolist())
    state = {"exp_avg": m.tolist(), "exp_avg_diff": v.tolist(), "exp_avg_sq": n.tolist(), "prev_grad": prev.tolist()}
    return trajectory, {"step": steps, **state}


def test_a_broken_plugin_fails_only_when_chosen(installed):
    out = in_fresh_python(
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            names = registry.available()
        errors = {}
        for name in ("broken", "missing", "notaclass"):
            try:
                registry.get(name)
            except registry.PluginLoadError as exc:
                errors[name] = [str(exc), type(exc.__cause__).__name__ if exc.__cause__ else None,
                                isinstance(exc, ImportError)]
        import autodiff
        w = autodiff.zeros(2, requires_grad=True)
        print(json.dumps({"names": names, "warnings": [str(w.message) for w in caught], "errors": errors,
                          "adan": type(registry.create("adan", [w])).__name__,
                          "adam": type(registry.create("adam", [w])).__name__}))
        """,
        installed["broken"],
        installed["adan"],
    )
    assert out["names"] == sorted(BUILTINS + ["adan", "broken", "missing", "notaclass"])
    assert out["warnings"] == []
    message, cause, is_import_error = out["errors"]["broken"]
    assert message == (
        "Optimizer 'broken' could not be loaded (distribution 'autodiff-optimizer-broken' 0.3.1, entry point "
        "'broken = broken_optimizer:Broken' in group 'autodiff.optimizers'): ImportError: broken_optimizer needs "
        "the package 'fancy_kernels', which is not installed"
    )
    assert cause == "ImportError" and is_import_error
    message, cause, _ = out["errors"]["missing"]
    assert "'missing = broken_optimizer_ok:DoesNotExist'" in message and "AttributeError" in message
    assert cause == "AttributeError"
    message, cause, _ = out["errors"]["notaclass"]
    assert "'notaclass = broken_optimizer_ok:helper'" in message
    assert "not a subclass of optimizers.Optimizer" in message and cause is None
    assert out["adan"] == "Adan" and out["adam"] == "Adam"


CLASH_CHECK = """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = registry.available()
    print(json.dumps({
        "names": names,
        "warnings": [[type(w.message).__name__, str(w.message)] for w in caught],
        "signsgd": registry.get("SIGNSGD").SOURCE,
        "signsgd_origin": registry.origin("signsgd").distribution,
        "adam": registry.get("adam").__module__,
    }))
"""


@pytest.mark.parametrize("order", ["a_first", "b_first"])
def test_a_name_clash_warns_naming_both_and_resolves_the_same_way_in_any_order(installed, order):
    paths = [installed["signsgd_a"], installed["signsgd_b"]]
    out = in_fresh_python(CLASH_CHECK, *(paths if order == "a_first" else paths[::-1]))
    assert out["names"] == sorted(BUILTINS + ["signsgd"])
    assert sorted(out["warnings"]) == [
        [
            "DuplicateNameWarning",
            "Optimizer 'adam' is registered by more than one distribution: optimizer-trajectories "
            "(adam = optimizers.adam:Adam) and fast-signsgd (adam = signsgd_b:SignSGD). "
            "Using the one from optimizer-trajectories.",
        ],
        [
            "DuplicateNameWarning",
            "Optimizer 'signsgd' is registered by more than one distribution: autodiff-optimizer-signsgd "
            "(signsgd = signsgd_a:SignSGD) and fast-signsgd (SignSGD = signsgd_b:SignSGD). "
            "Using the one from autodiff-optimizer-signsgd.",
        ],
    ]
    # Built-ins win over plugins; among plugins the distribution name that sorts first wins.
    assert out["signsgd"] == "a" and out["signsgd_origin"] == "autodiff-optimizer-signsgd"
    assert out["adam"] == "optimizers.adam"


def test_a_distribution_installed_after_discovery_appears_after_refresh(installed):
    out = in_fresh_python(
        f"""
        before = registry.available()
        sys.path.append({str(installed["adan"])!r})
        cached = registry.available()
        registry.refresh()
        print(json.dumps({{"before": before, "cached": cached, "after": registry.available()}}))
        """
    )
    assert "adan" not in out["before"] and out["cached"] == out["before"]
    assert out["after"] == sorted(out["before"] + ["adan"])


def test_the_documented_example_plugin_installs_and_trains(installed):
    assert sorted(documented_plugin_files()) == ["autodiff_optimizer_signum/__init__.py", "pyproject.toml"]
    out = in_fresh_python(
        """
        import autodiff
        w = autodiff.tensor([1.0, -2.0], dtype=autodiff.float64, requires_grad=True)
        opt = registry.create("Signum", [w], lr=0.1, beta=0.5, weight_decay=0.1)
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        print(json.dumps({"names": registry.available(), "w": w.tolist(),
                          "buffer": opt.state[w]["momentum_buffer"].tolist()}))
        """,
        installed["signum"],
    )
    assert "signum" in out["names"]
    # By hand: the gradient 2w keeps its sign, so each step moves w by -lr * (sign(w) + 0.1 w).
    w, buffer = [1.0, -2.0], [0.0, 0.0]
    for _ in range(3):
        grad = [2 * x for x in w]
        buffer = [0.5 * b + 0.5 * g for b, g in zip(buffer, grad)]
        w = [x - 0.1 * ((1.0 if b > 0 else -1.0) + 0.1 * x) for x, b in zip(w, buffer)]
    assert out["w"] == pytest.approx(w, rel=1e-12) and out["buffer"] == pytest.approx(buffer, rel=1e-12)


def test_another_plugin_kind_uses_the_same_machinery(installed):
    out = in_fresh_python(
        """
        widgets = registry.EntryPointRegistry("autodiff.test_widgets", "widget")
        result = {"names": widgets.available(), "widget": widgets.get("widget")(), "repr": repr(widgets)}
        for name in ("gadget", "gizmo"):
            try:
                widgets.get(name)
            except (registry.PluginLoadError, registry.UnknownNameError) as exc:
                result[name] = str(exc)
        empty = registry.EntryPointRegistry("autodiff.test_nothing", "gizmo")
        try:
            empty.get("x")
        except KeyError as exc:
            result["empty"] = str(exc)
        print(json.dumps(result))
        """,
        installed["broken"],
    )
    assert out["names"] == ["gadget", "widget"] and out["widget"] == 42
    assert out["repr"] == "EntryPointRegistry(group='autodiff.test_widgets', kind='widget')"
    assert out["gadget"].startswith("Widget 'gadget' could not be loaded (distribution 'autodiff-optimizer-broken'")
    assert out["gizmo"] == (
        "Unknown widget 'gizmo'. Available widgets: gadget, widget. "
        "Plugins register more under the entry-point group 'autodiff.test_widgets'."
    )
    assert out["empty"].startswith("Unknown gizmo 'x'. Available gizmos: none. ")
