"""The registry in this environment: the built-ins travel through the entry points, names, errors, defaults."""

from __future__ import annotations

import inspect
import sys

import autodiff
import pytest

import optimizers
from optimizers import registry

BUILTINS = {
    "sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adamax": "Adamax", "nadam": "NAdam", "radam": "RAdam",
    "rmsprop": "RMSprop", "rprop": "Rprop", "adagrad": "Adagrad", "adadelta": "Adadelta", "asgd": "ASGD",
    "adafactor": "Adafactor", "lbfgs": "LBFGS", "muon": "Muon", "lion": "Lion", "adabelief": "AdaBelief",
}


def param():
    return autodiff.zeros(3, requires_grad=True)


def test_builtins_are_registered_through_entry_points():
    names = registry.available()
    assert names == sorted(names)
    assert set(BUILTINS) <= set(names)
    for name, class_name in BUILTINS.items():
        assert registry.get(name) is getattr(optimizers, class_name)
        assert registry.origin(name).distribution == "optimizer-trajectories"
        assert registry.origin(name).entry_point.startswith(f"{name} = optimizers.")


def test_names_are_case_insensitive():
    assert registry.get("AdamW") is registry.get("adamw") is optimizers.AdamW
    assert all(name == name.lower() for name in registry.available())


def test_a_class_is_accepted_wherever_a_name_is():
    class Custom(optimizers.SGD):
        pass

    assert registry.get(Custom) is Custom
    assert isinstance(registry.create(Custom, [param()], lr=0.5), Custom)
    assert registry.signature_defaults(Custom) == registry.signature_defaults("sgd")


def test_unknown_name_lists_the_names_and_suggests_the_closest():
    with pytest.raises(registry.UnknownNameError) as info:
        registry.get("adamm")
    message = str(info.value)
    assert message.startswith("Unknown optimizer 'adamm'. Did you mean 'adam'? Available optimizers: ")
    assert ", ".join(registry.available()) in message
    assert "entry-point group 'autodiff.optimizers'" in message
    # Both a ValueError (bad configuration) and a KeyError (missing key); str() is not quoted like KeyError's.
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)
    assert not message.startswith("'")


def test_unknown_name_without_a_close_match_has_no_suggestion():
    with pytest.raises(ValueError, match=r"^Unknown optimizer 'zzzzzz'\. Available optimizers: "):
        registry.create("zzzzzz", [param()])
    with pytest.raises(KeyError):
        registry.origin("zzzzzz")


def test_create_builds_the_optimizer_with_its_hyperparameters():
    w = param()
    optimizer = registry.create("SGD", [w], lr=0.1, momentum=0.9, nesterov=True)
    assert type(optimizer) is optimizers.SGD
    assert optimizer.param_groups[0]["params"] == [w]
    assert optimizer.param_groups[0]["momentum"] == 0.9 and optimizer.param_groups[0]["nesterov"] is True
    with pytest.raises(ValueError, match="^Invalid learning rate: -0.1$"):
        registry.create("adam", [w], lr=-0.1)


def test_create_turns_config_lists_back_into_tuples():
    optimizer = registry.create("adam", [param()], lr=0.1, betas=[0.8, 0.99])
    assert optimizer.param_groups[0]["betas"] == (0.8, 0.99)
    assert "    betas: (0.8, 0.99)\n" in repr(optimizer)
    assert registry.coerce_hyperparameters("rprop", {"etas": [0.4, 1.3], "lr": 0.1, "step_sizes": (1e-5, 10)}) == {
        "etas": (0.4, 1.3), "lr": 0.1, "step_sizes": (1e-5, 10)
    }


def test_create_accepts_omegaconf_lists():
    omegaconf = pytest.importorskip("omegaconf")
    config = omegaconf.OmegaConf.create({"lr": 0.1, "eps": [None, 0.001]})
    optimizer = registry.create("adafactor", [autodiff.zeros(2, 2, requires_grad=True)], **config)
    assert optimizer.param_groups[0]["eps"] == (None, 0.001)
    assert type(optimizer.param_groups[0]["eps"]) is tuple


def test_signature_defaults():
    defaults = registry.signature_defaults("adam")
    assert "params" not in defaults
    assert defaults["lr"] == 1e-3 and defaults["betas"] == (0.9, 0.999) and defaults["amsgrad"] is False
    assert list(registry.signature_defaults("sgd"))[:5] == ["lr", "momentum", "dampening", "weight_decay", "nesterov"]


def test_signature_defaults_leave_out_required_and_variadic_arguments():
    class Required(optimizers.Optimizer):
        def __init__(self, params, lr, *extra, beta=0.5, **options):
            super().__init__(params, dict(lr=lr, beta=beta))

    assert registry.signature_defaults(Required) == {"beta": 0.5}


@pytest.mark.parametrize("name", sorted(set(BUILTINS) - {"lion", "adabelief"}))
def test_signature_defaults_equal_torchs(name):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.optim, BUILTINS[name])
    expected = {
        key: parameter.default
        for key, parameter in inspect.signature(theirs).parameters.items()
        if key != "params" and parameter.default is not inspect.Parameter.empty
    }
    assert registry.signature_defaults(name) == expected


def test_refresh_rediscovers():
    before = registry.available()
    registry.refresh()
    assert registry.available() == before


def test_the_documented_registry_and_scheduler_examples_run():
    """The Python blocks of docs/optimizers.md's registry and LR scheduler sections run as written."""
    import warnings

    from docs_text import code_blocks, section

    blocks = [block for title in ("Choosing an optimizer by name: the registry", "LR schedulers")
              for block in code_blocks(section("docs/optimizers.md", title), "python")]
    assert len(blocks) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. the scheduler-before-optimizer warning would fail the example
        for block in blocks:
            namespace = {}
            exec(compile(block, "docs/optimizers.md", "exec"), namespace)
    assert namespace["scheduler"].get_last_lr() == [0.0]
    assert namespace["scheduler"].last_epoch == 100


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_defaults_survive_a_round_trip_through_a_config(name):
    """What the runner does for plugins: signature defaults -> OmegaConf (tuples become lists) -> create."""
    omegaconf = pytest.importorskip("omegaconf")
    config = omegaconf.OmegaConf.create(registry.signature_defaults(name))
    w = autodiff.zeros(2, 2, requires_grad=True)
    from_config = registry.create(name, [w], **config)
    assert repr(from_config) == repr(registry.create(name, [w]))
    assert from_config.defaults == registry.create(name, [w]).defaults


def test_choosing_an_objective_imports_no_optimizer():
    """The registry lives outside ``optimizers``: building an objective leaves the optimizers unimported."""
    import subprocess

    code = ("import sys\n"
            "from experiments import objectives\n"
            "objectives.build({'name': 'rosenbrock', 'dim': 2, 'init': None})\n"
            "print(sorted(m for m in sys.modules if m == 'optimizers' or m.startswith('optimizers.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_schedulers_are_found_by_name_through_their_entry_point_group():
    import plugin_registry
    from optimizers import lr_scheduler

    names = plugin_registry.LR_SCHEDULERS.available()
    exported = sorted(n.lower() for n in lr_scheduler.__all__ if n != "LRScheduler")
    assert names == exported
    assert plugin_registry.LR_SCHEDULERS.get("StepLR") is lr_scheduler.StepLR
    assert plugin_registry.LR_SCHEDULERS.get(lr_scheduler.OneCycleLR) is lr_scheduler.OneCycleLR
    with pytest.raises(plugin_registry.UnknownNameError, match="Did you mean 'steplr'"):
        plugin_registry.LR_SCHEDULERS.get("StepLRR")
