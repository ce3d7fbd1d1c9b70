"""The tracking layer against a real MLflow SQLite store, and the configs composed with Hydra's compose API."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("mlflow")
pytest.importorskip("hydra")

from experiments.errors import ConfigError  # noqa: E402
from experiments.tracking import BatchWriter, TrackedRun, get_or_create_experiment, open_client, resolve_uri  # noqa: E402
from experiments.tracking.writer import mlflow_sink  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return open_client(f"sqlite:///{tmp_path_factory.mktemp('tracking') / 'mlflow.db'}")


@pytest.fixture
def experiment_id(client, request):
    return get_or_create_experiment(client, request.node.name)


def test_uri_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_uri(None, tmp_path) == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert resolve_uri("sqlite:///rel/m.db", tmp_path) == f"sqlite:///{tmp_path.resolve() / 'rel' / 'm.db'}"
    assert resolve_uri("sqlite:////abs/m.db", tmp_path) == "sqlite:////abs/m.db"
    assert resolve_uri("runs", tmp_path) == (tmp_path / "runs").resolve().as_uri()
    assert resolve_uri("http://127.0.0.1:5000", tmp_path) == "http://127.0.0.1:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5001")
    assert resolve_uri(None, tmp_path) == "http://127.0.0.1:5001"
    assert resolve_uri("sqlite:////abs/m.db", tmp_path) == "sqlite:////abs/m.db"  # tracking.uri wins
    with pytest.raises(ConfigError, match="unknown scheme 'ftp'"):
        resolve_uri("ftp://host/x", tmp_path)


@pytest.mark.slow
def test_the_writer_sends_full_batches_and_flush_sends_the_rest(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    sizes = []
    send = mlflow_sink(client, run_id)
    writer = BatchWriter(lambda batch: (sizes.append(len(batch)), send(batch)), batch_size=100)
    keys = [f"k/{i}" for i in range(7)]
    for step in range(50):
        writer.add(step, 1000 + step, keys, [float(step * 10 + i) for i in range(7)])
    writer.flush()
    # whole batches (several at once when they waited), then what is left on flush
    assert sum(sizes) == 350 and all(s % 100 == 0 for s in sizes[:-1]) and sizes[-1] == 50
    writer.add(50, 2000, keys, [1.0] * 7)
    writer.close()
    assert sum(sizes) == 357
    history = client.get_metric_history(run_id, "k/3")
    assert [m.step for m in history] == list(range(51))
    assert history[2].value == 23.0 and history[2].timestamp == 1002
    assert all(isinstance(m.step, int) for m in history)


def test_a_call_after_points_comes_once_they_are_sent_and_not_after_an_abandon():
    import threading

    sent, seen, release = [], [], threading.Event()

    def sink(batch):
        release.wait(30)
        sent.extend(batch)

    writer = BatchWriter(sink, batch_size=1000)
    writer.add(0, 0, ["a", "b"], [1.0, 2.0])  # under a batch: held back, but the call needs it sent first
    writer.after_points(lambda: seen.append(len(sent)))
    writer.add(1, 0, ["a"], [3.0])
    release.set()
    writer.flush()
    assert seen == [2] and len(sent) == 3
    release.clear()
    writer.add(2, 0, ["a"], [4.0])
    writer.after_points(lambda: seen.append("late"))
    unsent = writer.abandon()  # the sink is stuck: stopped at once, the call is never made
    release.set()
    writer._thread.join(30)  # the thread ends without making the call
    assert ("a", 4.0, 0, 2) in unsent and "late" not in seen and not writer._thread.is_alive()


def test_numpy_integer_steps_are_stored_as_integers(client, experiment_id):
    import numpy as np

    run_id = client.create_run(experiment_id).info.run_id
    writer = BatchWriter(mlflow_sink(client, run_id))
    writer.add(np.int64(3), 0, ["x"], [1.0])
    writer.add(np.int64(4), 0, ["x"], [2.0])
    writer.close()
    assert [m.step for m in client.get_metric_history(run_id, "x")] == [3, 4]


def test_a_writer_failure_reaches_the_caller():
    def broken(batch):
        raise OSError("disk full")

    writer = BatchWriter(broken, batch_size=2)
    writer.add(0, 0, ["a", "b"], [1.0, 2.0])
    with pytest.raises(RuntimeError, match="disk full"):
        writer.flush()
    with pytest.raises(RuntimeError, match="disk full"):
        writer.close()


def test_the_lifecycle_never_leaves_a_run_running(client, experiment_id):
    with TrackedRun.start(client, experiment_id, "ok", params={"a.b": 1}) as run:
        run.log_metrics(0, ["loss"], [1.0])
    assert client.get_run(run.run_id).info.status == "FINISHED"
    assert client.get_run(run.run_id).data.params == {"a.b": "1"}
    with pytest.raises(ValueError):
        with TrackedRun.start(client, experiment_id, "boom") as run:
            run.log_metrics(0, ["loss"], [1.0])
            raise ValueError("boom")
    failed = client.get_run(run.run_id)
    assert failed.info.status == "FAILED" and failed.data.tags["failure_reason"] == "ValueError: boom"
    assert failed.data.metrics["loss"] == 1.0  # flushed before ending
    with pytest.raises(KeyboardInterrupt):
        with TrackedRun.start(client, experiment_id, "interrupted") as run:
            raise KeyboardInterrupt
    assert client.get_run(run.run_id).info.status == "KILLED"
    with TrackedRun.start(client, experiment_id, "diverged", parent_run_id="p" * 32) as run:
        run.fail("non-finite loss nan at step 3")
    diverged = client.get_run(run.run_id)
    assert diverged.info.status == "FAILED" and diverged.data.tags["mlflow.parentRunId"] == "p" * 32


def test_processes_racing_to_create_an_experiment_get_one(client):
    ids, errors = [], []

    def create():
        try:
            ids.append(get_or_create_experiment(client, "raced"))
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(ids)) == 1


def compose(*overrides):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides))


BUILTINS = "sgd adam adamw adamax nadam radam rmsprop rprop adagrad adadelta asgd adafactor lbfgs muon lion adabelief"


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILTINS.split())
def test_each_optimizer_file_holds_the_signature_defaults_and_follows_lr(name):
    from omegaconf import OmegaConf

    from optimizers import registry

    defaults = registry.signature_defaults(name)
    cfg = compose(f"optimizer={name}")
    node = OmegaConf.to_container(cfg.optimizer, resolve=True)
    assert node.pop("name") == name
    assert node.pop("default_lr") == defaults["lr"] == node["lr"] == cfg.lr
    assert registry.coerce_hyperparameters(name, node) == defaults
    assert compose(f"optimizer={name}", "lr=0.123").optimizer.lr == 0.123


def test_plugin_entries_come_from_the_signature():
    from experiments.plugin_configs import plugin_entry

    from optimizers import registry

    entry = plugin_entry("radam")
    assert entry["lr"] == "${lr}" and entry["default_lr"] == 0.001 and entry["betas"] == [0.9, 0.999]
    assert set(entry) - {"name", "lr", "default_lr"} == set(registry.signature_defaults("radam")) - {"lr"}


def test_the_ui_link_is_the_servers_own_address_without_credentials_or_mlflow_uis_default():
    from experiments.tracking.store import run_link, where_to_view

    route = "/#/experiments/3/runs/abc?workflowType=machine_learning"
    assert run_link("sqlite:////tmp/mlflow.db", "3", "abc") == "http://127.0.0.1:5000" + route
    assert run_link("https://alice:secret@mlflow.example.org:8443/", "3", "abc") == (
        "https://mlflow.example.org:8443" + route)
    assert run_link("http://[::1]:5001", "3", "abc") == "http://[::1]:5001" + route
    assert where_to_view("sqlite:////tmp/mlflow.db", "3", "abc").endswith(
        "(served by: mlflow ui --backend-store-uri sqlite:////tmp/mlflow.db --host 127.0.0.1)")
    assert "secret" not in where_to_view("http://alice:secret@host:5000", "3", "abc")
