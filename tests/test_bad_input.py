"""Bad input, one row each: ``python run.py`` exits non-zero with a one-paragraph error (what was wrong, where, what
is allowed), prints no traceback, and leaves no run behind RUNNING (none is even created for these). The broken
plugins are a real distribution, built and installed with pip into its own folder.

Each row is a process of its own running ``run.py`` as ``__main__`` with the row's command line, forked from one
helper that imported the libraries once (support/forked_cli.py): its exit code, output and store are the row's, and
the interpreter's start-up (1 s of a row's 1.2 s) is paid once. The tests after the rows run ``python run.py``
itself."""

from __future__ import annotations

import os

import pytest

from runner_support import all_runs, client_for, run_cli
from support import distributions
from support.forked_cli import ForkedCli
from support.mlflow_server import free_port

pytest.importorskip("mlflow")
pytest.importorskip("hydra")

BROKEN = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "autodiff-broken-plugins"
        version = "0.2.0"
        [tool.setuptools]
        py-modules = ["broken_plugins"]
        [project.entry-points."autodiff.optimizers"]
        brokenopt = "broken_plugins:Optimizer"
        [project.entry-points."autodiff.objectives"]
        brokenobjective = "broken_plugins:Objective"
    """,
    "broken_plugins.py": """
        raise ImportError("broken_plugins needs the package 'fast_kernels', which is not installed")
    """,
}


# End-to-end (each row runs `python run.py` as a subprocess): out of the quick subset `-m "not slow"`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("bad-input")


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory):
    base = tmp_path_factory.mktemp("broken")
    source = distributions.write_sources(base / "src", BROKEN)
    return distributions.install(base, {"broken": (source, "autodiff_broken_plugins")})["broken"]


DEEP = "(" * 40 + "a" + ")" * 40
EXPRESSION = ["objective=expression", "objective.init.a=[2,3]", "objective.init.b=[6,4]"]
FILE = "/etc/hostname"  # a regular file: no folder can be made under it, whoever runs the tests

ROWS = [
    # (id, arguments, what the message must say)
    ("unknown optimizer", ["optimizer=adamm"],
     "optimizer=adamm: Unknown optimizer 'adamm'. Did you mean 'adam'? Available optimizers: adabelief, adadelta"),
    ("unknown optimizer in a sweep", ["-m", "optimizer=sgd,lionn"], "Unknown optimizer 'lionn'. Did you mean 'lion'?"),
    ("unknown optimizer name key", ["optimizer.name=sgdd"], "Unknown optimizer 'sgdd'. Did you mean 'sgd'?"),
    ("unknown objective", ["objective=rosenbrok"],
     "Unknown objective 'rosenbrok'. Did you mean 'rosenbrock'? Available objectives: ackley, beale"),
    ("unknown objective, the configured variants named", ["objective=noisy_rosenbrok"],
     "Variants set up by a config of their own (configs/objective/): noisy_rosenbrock."),
    ("hyperparameter of the wrong type", ["optimizer=adam", "lr=fast"],
     "optimizer=adam (lr='fast'): TypeError: '<=' not supported between instances of 'float' and 'str'"),
    ("hyperparameter out of range", ["optimizer=adam", "lr=-0.1"], "ValueError: Invalid learning rate: -0.1"),
    ("momentum out of range", ["optimizer=sgd", "optimizer.momentum=-0.5"], "Invalid momentum value: -0.5"),
    ("betas out of range", ["optimizer=adam", "optimizer.betas=[0.9,1.5]"], "Invalid beta parameter at index 1: 1.5"),
    ("unknown hyperparameter", ["optimizer=adam", "+optimizer.momentum=0.9"],
     "TypeError: Adam.__init__() got an unexpected keyword argument 'momentum'"),
    ("negative steps", ["steps=-3"], "steps=-3 is not allowed: the number of optimizer steps must be an integer >= 0."),
    ("fractional steps", ["steps=2.5"], "steps=2.5 is not allowed"),
    ("steps not a number", ["steps=many"], "steps='many' is not allowed"),
    ("init with NaN", ["objective=rosenbrock", "objective.init=[1,nan]"],
     "objective.init = [1, nan] is not allowed: objective.init[1] is nan, and initial values must be finite"),
    ("init with inf", [*EXPRESSION[:2], "objective.init.b=[6,inf]", "objective.expr='sum(a*b)'"],
     "objective.init.b[1] is inf"),
    ("init of the wrong shape", ["objective=beale", "objective.init=[1,2,3]"],
     "it has shape (3,), and this objective has 2 coordinates (shape (2,))"),
    ("negative gradient noise", ["objective=quadratic", "objective.gradient_noise=-0.1"],
     "objective.gradient_noise=-0.1 is not allowed: it is the standard deviation of the Gaussian noise added to "
     "every coordinate of the gradient the optimizer sees (absolute, the same for every coordinate and step), so it "
     "must be a finite number >= 0. Allowed: 0 (exact gradients, the default)"),
    ("gradient noise not a number", ["objective=beale", "objective.gradient_noise=loud"],
     "objective.gradient_noise='loud' is not allowed"),
    ("infinite gradient noise in a sweep", ["-m", "objective=rosenbrock", "objective.gradient_noise=0.1,inf"],
     "objective.gradient_noise=inf is not allowed"),
    ("digits network without units", ["objective=digits", "objective.hidden=0"],
     "objective.hidden = 0 is out of range. Allowed: an integer >= 1 and <= 100000."),
    ("digits activation unknown", ["objective=digits", "objective.activation=gelu"],
     "objective.activation = 'gelu' is not allowed. Allowed: relu, tanh."),
    ("digits test set of every image", ["objective=digits", "objective.test_fraction=1.0"],
     "objective.test_fraction = 1.0 is out of range: it holds out 1797 of the 1797 images"),
    ("digits batch beyond the training set", ["objective=digits", "objective.batch_size=1500"],
     "objective.batch_size = 1500 is out of range. Allowed: an integer >= 1 and <= 1438."),
    ("malformed expression", [*EXPRESSION, "objective.expr='sum(3*a**3 - b**2'"], "Expression refused"),
    ("expression nested too deep", [*EXPRESSION, f"objective.expr='sum(a) + {DEEP}'"], "nested"),
    ("attribute access", [*EXPRESSION, "objective.expr='a.__class__'"], "attribute access (.__class__) is not allowed"),
    ("call outside the whitelist", [*EXPRESSION, "objective.expr='__import__(\"os\").system(\"true\")'"],
     "Expression refused"),
    ("lambda", [*EXPRESSION, "objective.expr='(lambda: 1)()'"], "Expression refused"),
    ("huge power", [*EXPRESSION, "objective.expr='sum(a) ** 9 ** 9 ** 9'"], "Expression refused"),
    ("unknown tracking scheme", ["tracking.uri=ftp://host/runs"],
     "tracking.uri='ftp://host/runs' has the unknown scheme"),
    ("unwritable artifact location", [f"tracking.artifact_location={FILE}/artifacts", "tracking.experiment=unwritable"],
     f"The artifact location file://{FILE}/artifacts of experiment 'unwritable' is not writable"),
    ("store in an unusable folder", [f"tracking.uri=sqlite:///{FILE}/runs/mlflow.db"],
     f"The SQLite store {FILE}/runs/mlflow.db cannot be written: Not a directory ({FILE}/runs)"),
    ("store that is a folder", ["tracking.uri=sqlite:////etc"],
     "The SQLite store /etc is a folder, not a database file. Give a file path"),
    ("in-memory store", ["tracking.uri=sqlite:///:memory:"],
     "tracking.uri='sqlite:///:memory:' is an in-memory SQLite database. An in-memory SQLite database lives only"),
    ("in-memory store without a path", ["tracking.uri=sqlite://"], "is an in-memory SQLite database"),
    ("bad lock timeout", ["tracking.lock_timeout=-1"], "tracking.lock_timeout=-1 is not allowed"),
    ("bad dtype", ["dtype=float16"], "dtype='float16' is not allowed. Allowed: float32, float64."),
    ("bad logging option", ["logging.every=0"], "logging.every=0 is not allowed: it must be an integer >= 1."),
    ("bad checkpoint option", ["checkpoint.every=-1"], "checkpoint.every=-1 is not allowed"),
    ("betas of one value", ["optimizer=adam", "optimizer.betas=[0.9]"],
     "optimizer.betas=[0.9] is not allowed: Adam's betas takes a list of 2 numbers."),
    ("betas of three values", ["optimizer=adam", "optimizer.betas=[0.9,0.99,0.5]"],
     "optimizer.betas=[0.9, 0.99, 0.5] is not allowed: Adam's betas takes a list of 2 numbers."),
    ("betas of three values in a sweep job", ["-m", "optimizer=adam", "optimizer.betas=[0.9,0.99],[0.9,0.99,0.5]"],
     "optimizer.betas=[0.9, 0.99, 0.5] is not allowed"),
    ("seed as an expression", ["seed=2**64"], "seed='2**64' is not allowed: the seed must be an integer >= 0."),
    ("seed beyond torch's range", ["seed=18446744073709551616"],
     "seed=18446744073709551616 is not allowed: seeds run from 0 to 2**64-1 = 18446744073709551615"),
    ("seeds of the repeats beyond the range", ["seed=18446744073709551615", "repeats=2"],
     "this run would use up to 18446744073709551616"),
    ("scheduler that divides by zero", ["scheduler=step", "scheduler.step_size=0"],
     "scheduler=StepLR: its first step fails with ZeroDivisionError"),
    ("scheduler option of the wrong type", ["scheduler=step", "scheduler.gamma=abc"],
     "scheduler.gamma='abc' is not allowed: StepLR's gamma takes a number."),
    ("no optimizer", ["optimizer=null"],
     "optimizer=null is not allowed: a run needs a choice of optimizer. Available: "),
    ("no objective", ["objective=null"], "objective=null is not allowed: a run needs a choice of objective."),
    ("unknown interpolation", ["lr=${nope}"],
     "The config does not resolve: optimizer.lr: Interpolation key 'nope' not found."),
    ("unknown interpolation in a sweep job", ["-m", "lr=0.1,${nope}"], "Interpolation key 'nope' not found"),
    ("unknown key", ["foo=1"], "Could not override 'foo'. To append to your config use +foo=1."),
    ("unknown Hydra key", ["hydra.foo=1"], "Could not override 'hydra.foo'."),
    ("misspelt key", ["stepz=3"], "Key 'stepz' is not in struct. Did you mean 'steps'?"),
    ("misspelt nested key", ["optimizer=adam", "optimizer.betass=[0.9,0.99]"], "Did you mean 'optimizer.betas'?"),
    ("unknown scheduler", ["scheduler=unknown"],
     "scheduler=unknown: there is no 'unknown' in the config group 'scheduler' (configs/scheduler/). Available: "
     "cosine, exponential, step."),
    ("misspelt scheduler in a sweep", ["-m", "scheduler=step,stpe"], "Did you mean 'step'?"),
    ("unknown scheduler name key", ["scheduler=step", "scheduler.name=StepLRR"],
     "scheduler.name='StepLRR': Unknown scheduler 'StepLRR'. Did you mean 'steplr'? Available schedulers: "
     "chainedscheduler, constantlr"),
    ("unquoted non-ASCII value", ["tracking.run_name=héllo"],
     "the character(s) é must be inside quotes. Write it as tracking.run_name='héllo'"),
    ("override grammar", ["optimizer.betas=[0.9"], "optimizer.betas=[0.9: Hydra cannot read this override"),
    ("spool folder in /proc", ["tracking.spool_dir=/proc"],
     "tracking.spool_dir=/proc is not allowed: a run could not keep its records there"),
    ("spool folder that is a file", [f"tracking.spool_dir={FILE}"],
     f"tracking.spool_dir={FILE} is not allowed: {FILE} is a file, not a folder."),
    ("start beyond float32", ["objective=rosenbrock", "objective.init=1e300"],
     "objective.init: the start of x does not fit in float32 (its largest finite value is 3.402823e+38; the start "
     "has 1e+300)"),
    ("loss beyond float32", ["objective=expression", "objective.expr='exp(a)'", "~objective.init",
                             "+objective.init={a:100}"],
     "The loss at the start (objective.init) is inf in float32 (in float64 it is 2.688117e+43"),
    ("power beyond float32", ["objective=expression", "objective.expr='a**a'", "~objective.init",
                              "+objective.init={a:140}"],
     "is inf in float32 (in float64 it is 2.870285e+300"),
    ("gradient whose norm overflows", ["objective=expression", "objective.expr='sum(a * 1e160)'", "~objective.init",
                                       "+objective.init={a:[1,1]}", "dtype=float64"],
     "The gradient (gradient norm inf: every element is finite, their squares overflow) at the start"),
    ("optimizer plugin that fails to import", ["optimizer=brokenopt"],
     "Optimizer 'brokenopt' could not be loaded (distribution 'autodiff-broken-plugins' 0.2.0, entry point "
     "'brokenopt = broken_plugins:Optimizer' in group 'autodiff.optimizers'): ImportError: broken_plugins needs "
     "the package 'fast_kernels', which is not installed"),
    ("objective plugin that fails to import", ["objective=brokenobjective"],
     "Objective 'brokenobjective' could not be loaded (distribution 'autodiff-broken-plugins' 0.2.0"),
]


@pytest.fixture(scope="module")
def commands(broken_site):
    """Runs ``python run.py ...`` (forked, see the module's docstring) with the broken plugins installed."""
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(broken_site), os.environ.get("PYTHONPATH")]))}
    with ForkedCli(env) as forked:
        yield forked


@pytest.mark.parametrize("args, message", [pytest.param(a, m, id=i) for i, a, m in ROWS])
def test_bad_input_is_one_clean_paragraph_before_any_run(store, commands, args, message):
    before = len(all_runs(client_for(store))) if (store / "mlflow.db").exists() else 0
    out = commands.run([*args, "steps=5"] if not any(a.startswith("steps=") for a in args) else args, store)
    assert out.returncode == 2, (out.stdout, out.stderr)
    errors = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, out.stderr
    assert message in errors[0], out.stderr
    assert "Traceback" not in out.stderr
    if (store / "mlflow.db").exists():
        runs = all_runs(client_for(store))
        assert len(runs) == before and not [r for r in runs if r.info.status == "RUNNING"]


def test_an_unreachable_server_is_one_clean_paragraph_too(store):
    uri = f"http://127.0.0.1:{free_port()}"
    out = run_cli([f"tracking.uri={uri}", "steps=5"], store, check=False)
    assert out.returncode == 3 and "Traceback" not in out.stderr
    [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    assert error.startswith(f"Error: The MLflow tracking server {uri} cannot be reached")


def _one_paragraph(out, message: str, code: int = 2) -> None:
    assert out.returncode == code, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    assert message in error, out.stderr


def test_resume_of_a_run_whose_config_is_not_yaml(store, tmp_path):
    client = client_for(store)
    experiment = client.get_experiment_by_name("not-yaml") or client.create_experiment(
        "not-yaml", artifact_location=(store / "mlruns" / "not-yaml").as_uri())
    experiment_id = experiment if isinstance(experiment, str) else experiment.experiment_id
    run_id = client.create_run(experiment_id).info.run_id
    bad = tmp_path / "config.yaml"
    bad.write_text("optimizer: [unclosed\n  : : :\n")
    client.log_artifact(run_id, str(bad))
    client.set_terminated(run_id, "KILLED")
    before = len(all_runs(client))
    out = run_cli([f"resume={run_id}"], store, check=False)
    _one_paragraph(out, f"resume={run_id}: the run's config.yaml artifact cannot be read")
    assert len(all_runs(client)) == before and client.get_run(run_id).info.status == "KILLED"


def test_sync_of_a_journal_with_a_garbage_line(tmp_path):
    from experiments.tracking.spool import Spool

    made = Spool.create(tmp_path / "mlflow-spool", "0" * 32, f"sqlite:///{tmp_path / 'mlflow.db'}", "0" * 32)
    made.close()
    spool = made.directory
    with open(spool / "journal.jsonl", "a") as journal:
        journal.write("this is not json\n")
    out = run_cli([str(spool)], tmp_path, module="experiments.sync", check=False)
    _one_paragraph(out, "journal.jsonl cannot be read: line 2 ('this is not json') is not a record this runner writes")
    assert (spool / "journal.jsonl").is_file() and not (tmp_path / "mlflow.db").exists()


@pytest.fixture
def read_only_folder(tmp_path):
    """A read-only filesystem (a tmpfs mounted ro: permission bits do not stop root, who runs the tests here)."""
    import subprocess

    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_working_folder(read_only_folder):
    out = run_cli(["steps=3"], read_only_folder, check=False)
    _one_paragraph(out, "Hydra cannot write its output folder (Read-only file system: outputs), so nothing was run.")


def _check_again_and_again(folder: str, times: int) -> None:
    from experiments.preflight import check_spool_dir

    for _ in range(times):
        check_spool_dir(folder)


def test_runs_checking_one_spool_folder_at_once_all_pass_and_leave_no_file(tmp_path):
    """The jobs of a parallel sweep check the same spool folder at once, each making it and removing it again:
    one removing it between another's making it and writing into it must not refuse that other run."""
    import multiprocessing

    folder = tmp_path / "mlflow-spool"
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_check_again_and_again, args=(str(folder), 1000)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    # a folder another job was still writing into when its maker removed what it made stays, empty
    assert not folder.exists() or not any(folder.iterdir())
