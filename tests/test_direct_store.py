"""A run's calls made straight on a local SQLite store (``experiments.tracking.direct``) leave exactly what MLflow's
own client leaves: the same rows, the same artifacts, the same answers when MLflow reads them back; what is not the
plain case gets MLflow's own answer; stores it does not cover go through MLflow; and a run on an existing store does
not import MLflow at all."""
from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner_support import client_for, run_cli, run_id_from

pytest.importorskip("mlflow")


def _store(tmp_path):
    """A store made by MLflow (as the first run on a folder makes it), with one experiment, and a DirectClient."""
    from experiments.tracking.direct import direct_client
    from experiments.tracking.store import EXPERIMENT_TAGS, default_artifact_location, sqlite_uri

    uri = sqlite_uri(tmp_path / "mlflow.db")
    client = client_for(tmp_path)
    experiment = client.create_experiment("same", artifact_location=default_artifact_location(uri, "same"),
                                          tags=EXPERIMENT_TAGS)
    direct = direct_client(uri, tmp_path / "mlflow.db", 10)
    assert direct is not None
    return client, direct, experiment


def _same_calls(client, experiment, artifact, tmp_path) -> str:
    """What a run does from its creation to its end, through ``client``; its run id."""
    from mlflow.entities import Param

    tags = {"optimizer": "adam", "objective": "seed", "lease": '{"state": "held"}', "mlflow.parentRunId": "0" * 32}
    run_id = client.create_run(experiment, start_time=1_700_000_000_000, tags=tags, run_name="lr=0.1").info.run_id
    client.log_batch(run_id, params=[Param("optimizer.lr", "0.1"), Param("objective.init.a", "[2.0, 3.0]")],
                     synchronous=True)
    client.log_batch(run_id, params=[Param("optimizer.lr", "0.1"), Param("steps", "100")], synchronous=True)
    client.set_tag(run_id, "lease", '{"state": "released"}')
    client.set_tag(run_id, "resumed_from_step", 40)
    client.log_artifact(run_id, str(artifact))
    client.log_artifact(run_id, str(artifact), "checkpoint")
    client.log_artifact(run_id, str(artifact), "plots/deeper")
    from experiments.tracking.spool import delete_artifact

    delete_artifact(client, run_id, "checkpoint")
    delete_artifact(client, run_id, "checkpoint")  # gone already: nothing happens
    client.set_terminated(run_id, "FINISHED", end_time=1_700_000_100_000)
    return run_id


def _row(database, table, key_column, run_id, columns="*"):
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(f"SELECT {columns} FROM {table} WHERE {key_column} = ? ORDER BY 1", (run_id,)).fetchall()
        return [dict(row) for row in rows]


def _artifacts(client, run_id, path=None):
    found = []
    for item in client.list_artifacts(run_id, path):
        found.append((item.path, item.is_dir, item.file_size))
        if item.is_dir:
            found.extend(_artifacts(client, run_id, item.path))
    return found


def test_a_run_written_directly_reads_back_as_one_written_through_mlflow(tmp_path):
    client, direct, experiment = _store(tmp_path)
    artifact = tmp_path / "config.yaml"
    artifact.write_text("optimizer: adam\n")
    os.chmod(artifact, 0o640)
    by_mlflow = _same_calls(client, experiment, artifact, tmp_path)
    by_direct = _same_calls(direct, experiment, artifact, tmp_path)
    database = tmp_path / "mlflow.db"

    def without_ids(row):
        return {k: v.replace(by_direct, "<id>").replace(by_mlflow, "<id>") if isinstance(v, str) else v
                for k, v in row.items()}

    for table, key in (("runs", "run_uuid"), ("tags", "run_uuid"), ("params", "run_uuid")):
        assert ([without_ids(r) for r in _row(database, table, key, by_direct)]
                == [without_ids(r) for r in _row(database, table, key, by_mlflow)]), table
    one, other = client.get_run(by_mlflow), client.get_run(by_direct)
    assert (other.data.params, other.data.tags) == (one.data.params, one.data.tags)
    assert ({k: v for k, v in vars(other.info).items() if k not in ("_run_id", "_run_uuid", "_artifact_uri")}
            == {k: v for k, v in vars(one.info).items() if k not in ("_run_id", "_run_uuid", "_artifact_uri")})
    assert other.info.artifact_uri == one.info.artifact_uri.replace(by_mlflow, by_direct)
    assert _artifacts(client, by_direct) == _artifacts(client, by_mlflow)
    assert [p for p, is_dir, _ in _artifacts(client, by_direct)] == ["config.yaml", "plots", "plots/deeper",
                                                                      "plots/deeper/config.yaml"]
    root = tmp_path / "mlruns" / "same"
    for path in ("config.yaml", "plots/deeper/config.yaml"):
        made, copied = (root / run / "artifacts" / path for run in (by_mlflow, by_direct))
        assert copied.read_bytes() == made.read_bytes()
        assert (copied.stat().st_mode, copied.stat().st_mtime) == (made.stat().st_mode, made.stat().st_mtime)
    assert not list(root.rglob(".artifact.uploading.*"))
    found = client.search_runs([experiment], "tags.optimizer = 'adam' and params.steps = '100'",
                               order_by=["attributes.start_time"])
    assert sorted(r.info.run_id for r in found) == sorted([by_mlflow, by_direct])
    assert direct._mlflow_client is None  # none of these calls needed MLflow


def test_what_is_not_the_plain_case_gets_mlflow_s_own_answer(tmp_path):
    from mlflow.entities import Param, RunTag
    from mlflow.exceptions import MlflowException

    client, direct, experiment = _store(tmp_path)

    def both(call):
        """The error each client raises for ``call(client, run_id)`` on a run of its own."""
        errors = []
        for each in (client, direct):
            run_id = each.create_run(experiment, run_name="r").info.run_id
            with pytest.raises(Exception) as raised:  # noqa: PT011 - MLflow's own type, whatever it is
                call(each, run_id)
            errors.append((type(raised.value), str(raised.value).replace(run_id, "<id>")))
        return errors

    def changed(each, run_id):
        each.log_batch(run_id, params=[Param("lr", "0.1")], synchronous=True)
        each.log_batch(run_id, params=[Param("lr", "0.2")], synchronous=True)

    def deleted(each, run_id):
        client.delete_run(run_id)
        each.set_tag(run_id, "note", "x")

    def deleted_end(each, run_id):
        client.delete_run(run_id)
        each.set_terminated(run_id, "FINISHED")

    def half_good_tags(each, run_id):
        try:
            each.log_batch(run_id, params=[Param("lr", "0.1")], tags=[RunTag("fine", "1"), RunTag("../up", "1")])
        finally:  # nothing was written: the call is checked whole before any write
            assert client.get_run(run_id).data.params == {} and "fine" not in client.get_run(run_id).data.tags

    reserved = tmp_path / ".artifact.uploading.x"
    reserved.write_text("x")
    cases = {
        "a param name MLflow refuses": lambda each, run_id: each.log_batch(run_id, params=[Param("a!b", "1")]),
        "a param without a name": lambda each, run_id: each.log_batch(run_id, params=[Param(None, "1")]),
        "a tag MLflow refuses, after good ones": half_good_tags,
        "an artifact named as MLflow's staging files": lambda each, run_id: each.log_artifact(run_id, str(reserved)),
        "a tag name MLflow refuses": lambda each, run_id: each.set_tag(run_id, "../up", "1"),
        "a param changed": changed,
        "a deleted run's tag": deleted,
        "a deleted run's status": deleted_end,
        "a status MLflow does not know": lambda each, run_id: each.set_terminated(run_id, "DONE"),
    }
    for case, call in cases.items():
        by_mlflow, by_direct = both(call)
        assert by_direct == by_mlflow, case
    # a renamed run (the run-name tag changes the run's name too)
    run_id = direct.create_run(experiment, run_name="before").info.run_id
    direct.set_tag(run_id, "mlflow.runName", "after")
    assert client.get_run(run_id).info.run_name == "after"
    gone = client.create_experiment("gone")
    client.delete_experiment(gone)
    messages = []
    for each in (client, direct):
        with pytest.raises(MlflowException) as raised:
            each.create_run(gone, run_name="r")
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert direct._mlflow_client is not None  # these went to MLflow


def test_an_experiment_created_directly_reads_back_as_one_created_through_mlflow(tmp_path):
    from experiments.tracking.store import EXPERIMENT_TAGS, default_artifact_location, sqlite_uri

    client, direct, _ = _store(tmp_path)
    uri = sqlite_uri(tmp_path / "mlflow.db")
    made = {}
    for name, each in (("by mlflow", client), ("by direct", direct)):
        made[name] = each.create_experiment(name, artifact_location=default_artifact_location(uri, name),
                                            tags=EXPERIMENT_TAGS)
    assert direct._mlflow_client is None  # created without MLflow
    assert int(made["by direct"]) == int(made["by mlflow"]) + 1  # the next id, as MLflow numbers them
    database = tmp_path / "mlflow.db"
    rows = {name: _row(database, "experiments", "experiment_id", int(i))[0] for name, i in made.items()}
    for name, row in rows.items():
        assert row.pop("creation_time") == row.pop("last_update_time") > 0
        assert (row.pop("experiment_id"), row.pop("name")) == (int(made[name]), name)
        row["artifact_location"] = row["artifact_location"].replace("by_direct", "X").replace("by_mlflow", "X")
    assert rows["by direct"] == rows["by mlflow"]
    tags = {name: [{k: v for k, v in r.items() if k != "experiment_id"}
                   for r in _row(database, "experiment_tags", "experiment_id", int(i))] for name, i in made.items()}
    assert tags["by direct"] == tags["by mlflow"] and len(tags["by direct"]) == len(EXPERIMENT_TAGS)
    one, other = (client.get_experiment(made[name]) for name in ("by mlflow", "by direct"))
    assert (other.tags, other.lifecycle_stage) == (one.tags, one.lifecycle_stage)
    assert other.artifact_location == default_artifact_location(uri, "by direct")
    assert client.get_experiment_by_name("by direct").experiment_id == made["by direct"]
    run_id = direct.create_run(made["by direct"], run_name="r").info.run_id  # a run in it, written directly too
    assert client.get_run(run_id).info.experiment_id == made["by direct"]
    assert direct._mlflow_client is None

    def both(call):
        errors = []
        for each in (client, direct):
            with pytest.raises(Exception) as raised:  # noqa: PT011 - MLflow's own type, whatever it is
                call(each)
            errors.append((type(raised.value), re.sub(r"\b\d{13}\b", "<ms>", str(raised.value))))  # times in SQL
        return errors

    location = default_artifact_location(uri, "x")
    cases = {
        "a name taken": lambda each: each.create_experiment("by mlflow", artifact_location=location),
        "no name": lambda each: each.create_experiment("", artifact_location=location),
        "a name too long": lambda each: each.create_experiment("n" * 501, artifact_location=location),
        "a tag MLflow refuses": lambda each: each.create_experiment("t", artifact_location=location,
                                                                    tags={"../up": "1"}),
        "a trace archival tag MLflow cannot read": lambda each: each.create_experiment(
            "u", artifact_location=location, tags={"mlflow.trace.archivalRetention": "soon"}),
    }
    for case, call in cases.items():
        by_mlflow, by_direct = both(call)
        assert by_direct[0] is by_mlflow[0] and by_direct[1] == by_mlflow[1], case
    derived = direct.create_experiment("derived")  # no location given: MLflow derives it
    assert client.get_experiment(derived).artifact_location.endswith(f"/{derived}")


def test_the_limits_kept_beside_the_name_rule_are_mlflow_s():
    from mlflow.environment_variables import MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH
    from mlflow.tracing.constant import TraceExperimentTagKey
    from mlflow.utils import validation

    from experiments.tracking import direct, names

    assert names.MAX_EXPERIMENT_NAME_LENGTH == validation.MAX_EXPERIMENT_NAME_LENGTH
    assert names.MAX_EXPERIMENT_TAG_VALUE_LENGTH == validation.MAX_EXPERIMENT_TAG_VAL_LENGTH
    assert names.MAX_KEY_LENGTH == validation.MAX_EXPERIMENT_TAG_KEY_LENGTH
    assert names.MAX_ARTIFACT_LOCATION_LENGTH == MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH.default
    assert direct.TRACE_ARCHIVAL_TAGS == {v for k, v in vars(TraceExperimentTagKey).items() if not k.startswith("_")}


@given(st.one_of(st.text(max_size=12), st.text(alphabet="ab./_- :\\!é", max_size=8),
                 st.sampled_from(["", ".", "..", "a/../b", "/a", "a//b", "a/", "./a", "x" * 250, "x" * 251,
                                  "Objective/loss", "param/a.0", "exp_avg_sq/w.3", "a:b"])))
@settings(max_examples=300, deadline=None)
def test_the_name_rule_is_mlflow_s(name):
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_length_limit, _validate_param_name

    from experiments.tracking.names import MAX_KEY_LENGTH, is_valid_name

    try:
        _validate_param_name(name)
        _validate_length_limit("Param key", MAX_KEY_LENGTH, name)
        accepted = True
    except MlflowException:
        accepted = False
    assert is_valid_name(name) == accepted


def test_a_transaction_that_cannot_commit_is_rolled_back_and_the_store_stays_usable(tmp_path, monkeypatch):
    """A reader holding the store past the lock timeout (the UI on a large store, a backup) makes a write fail with
    SQLite's "database is locked", which the runner retries; the connection must not stay in the transaction."""
    from experiments.tracking import direct as module

    client, direct, experiment = _store(tmp_path)
    run_id = direct.create_run(experiment, run_name="r").info.run_id
    monkeypatch.setattr(module, "LOCK_TIMEOUT", 0.2)
    direct.close()  # reconnects with the short timeout
    reader = sqlite3.connect(tmp_path / "mlflow.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM tags").fetchone()  # a shared lock: no commit can happen meanwhile
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        direct.set_tag(run_id, "note", "first")
    assert not direct._connection.in_transaction
    reader.execute("ROLLBACK")
    reader.close()
    direct.set_tag(run_id, "note", "second")
    other = sqlite3.connect(tmp_path / "mlflow.db", timeout=1)
    other.execute("UPDATE runs SET name = name WHERE run_uuid = ?", (run_id,))  # another writer gets in
    other.commit()
    other.close()
    assert client.get_run(run_id).data.tags["note"] == "second"


@given(st.lists(st.text(alphabet="ab._-", min_size=1, max_size=4), min_size=1, max_size=4), st.booleans(),
       st.booleans())
@settings(max_examples=200, deadline=None)
def test_run_artifact_folders_are_named_as_mlflow_names_them(parts, as_uri, trailing):
    from mlflow.utils.uri import append_to_uri_path

    from experiments.tracking.artifact_files import joined, local_folder

    location = ("file://" if as_uri else "") + "/" + "/".join(parts) + ("/" if trailing else "")
    if local_folder(location) is None:  # MLflow decides for such a location
        assert trailing or any(p in (".", "..") for p in parts)
        return
    assert joined(location, "0123abcd", "artifacts") == append_to_uri_path(location, "0123abcd", "artifacts")
    assert str(local_folder(location)) == "/" + "/".join(parts)


@given(st.lists(st.text(alphabet=st.characters(exclude_characters="/\\\0", exclude_categories=("Cs",)), min_size=1,
                        max_size=6), min_size=1, max_size=3),
       st.lists(st.sampled_from(["%20", "%25", "%2F", "%2E", "%E9", "%C3%A9", "%zz", "%", ";", "a", "."]), max_size=4),
       st.booleans())
@settings(max_examples=300, deadline=None)
def test_escaped_locations_are_read_as_mlflow_reads_them(parts, escapes, as_uri):
    """The runner's own form for a folder whose name needs escapes (``Path.as_uri()``: a space is ``%20``) is taken,
    and any location taken names the folder MLflow's local artifact repository uses, its run folder as MLflow
    appends it."""
    from mlflow.utils.file_utils import local_file_uri_to_path
    from mlflow.utils.uri import append_to_uri_path

    from experiments.tracking.artifact_files import joined, local_folder

    folder = Path("/", *parts)
    if all(p not in (".", "..") for p in parts):
        assert local_folder(folder.as_uri()) == folder
    location = ("file://" if as_uri else "") + "/" + "/".join(parts) + "/" + "".join(escapes)
    taken = local_folder(location)
    if taken is None:  # MLflow decides for such a location
        return
    assert taken == Path(local_file_uri_to_path(location))
    assert joined(location, "0123abcd", "artifacts") == append_to_uri_path(location, "0123abcd", "artifacts")
    assert local_folder(joined(location, "0123abcd", "artifacts")) == Path(
        local_file_uri_to_path(append_to_uri_path(location, "0123abcd", "artifacts")))


def test_the_schema_head_known_for_the_installed_mlflow_is_its_own():
    from mlflow.store.db.utils import _get_latest_schema_revision

    from experiments.tracking.bulk import REVISIONS
    from experiments.tracking.direct import installed_head

    assert installed_head() == _get_latest_schema_revision()
    assert installed_head() in REVISIONS


def test_stores_it_does_not_cover_go_through_mlflow(tmp_path, monkeypatch):
    from experiments.tracking.direct import direct_client
    from experiments.tracking.store import sqlite_uri

    database = tmp_path / "mlflow.db"
    uri = sqlite_uri(database)
    assert direct_client(uri, database, 5) is None  # no store yet: MLflow creates it
    client_for(tmp_path).search_experiments()
    assert direct_client(uri, database, 5) is not None
    monkeypatch.setenv("MLFLOW_ENABLE_WORKSPACES", "true")
    assert direct_client(uri, database, 5) is None
    monkeypatch.delenv("MLFLOW_ENABLE_WORKSPACES")
    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO workspaces (name) VALUES ('team')")
        db.execute("INSERT INTO experiments (name, lifecycle_stage, workspace) VALUES ('theirs', 'active', 'team')")
    assert direct_client(uri, database, 5) is None
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM experiments WHERE workspace = 'team'")
        db.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    assert direct_client(uri, database, 5) is None


def imported_by(result) -> list[str]:
    """The modules a run started with PYTHONPROFILEIMPORTTIME=1 imported."""
    return [line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time")]


def mlflow_modules(imported: list[str]) -> list[str]:
    return [name for name in imported if name.split(".")[0] in ("mlflow", "sqlalchemy", "alembic")]


@pytest.mark.slow
def test_a_run_on_an_existing_store_does_not_import_mlflow(tmp_path):
    """The first run creates the store through MLflow; the next one writes it directly, and MLflow reads back
    both alike; so does a run in a new experiment, created directly."""
    args = ["steps=30", "optimizer=adam", "logging.plots=false", "checkpoint.every=10"]
    first = run_id_from(run_cli(args, tmp_path).stdout)
    result = run_cli(args, tmp_path, env={"PYTHONPROFILEIMPORTTIME": "1"})
    imported = imported_by(result)
    assert "experiments.tracking.direct" in imported
    assert not mlflow_modules(imported)
    second = run_id_from(result.stdout)
    client = client_for(tmp_path)
    one, other = client.get_run(first), client.get_run(second)
    assert other.info.status == one.info.status == "FINISHED"
    assert set(other.data.metrics) == set(one.data.metrics)
    assert other.data.metrics == one.data.metrics  # the same optimisation, the same last values
    params = dict(one.data.params)
    assert {k: v for k, v in other.data.params.items()} == params
    assert set(other.data.tags) == set(one.data.tags)
    assert other.data.tags["mlflow.runName"] == one.data.tags["mlflow.runName"] == other.info.run_name
    for key in ("Objective/loss", "param/a.0"):
        assert ([(m.step, m.value) for m in client.get_metric_history(second, key)]
                == [(m.step, m.value) for m in client.get_metric_history(first, key)])
    names = lambda run_id: sorted(a.path for a in client.list_artifacts(run_id))  # noqa: E731
    assert names(second) == names(first)  # the checkpoints are gone at the end, as before
    # a run in an experiment the store does not have yet creates it without MLflow too
    result = run_cli([*args, "tracking.experiment=another"], tmp_path, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert not mlflow_modules(imported_by(result))
    third = client.get_run(run_id_from(result.stdout))
    experiment = client.get_experiment_by_name("another")
    assert third.info.experiment_id == experiment.experiment_id and third.info.status == "FINISHED"
    assert experiment.tags == client.get_experiment(one.info.experiment_id).tags
    assert names(third.info.run_id) == names(first)


@pytest.mark.slow
def test_a_project_folder_whose_name_needs_escapes_is_written_directly_too(tmp_path):
    """A space in the project folder's name is ``%20`` in the artifact location: the second run still writes the
    store directly, and MLflow finds its artifacts."""
    folder = tmp_path / "my project é"
    folder.mkdir()
    args = ["steps=5", "optimizer=sgd", "logging.plots=false"]
    run_cli(args, folder)
    result = run_cli(args, folder, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert not mlflow_modules(imported_by(result))
    client = client_for(folder)
    run = client.get_run(run_id_from(result.stdout))
    assert "%20" in run.info.artifact_uri and run.info.status == "FINISHED"
    assert {"config.yaml", "trajectory.npz"} <= {a.path for a in client.list_artifacts(run.info.run_id)}
    from mlflow.utils.file_utils import local_file_uri_to_path

    stored = Path(local_file_uri_to_path(run.info.artifact_uri))
    assert stored.parent.parent.parent == folder / "mlruns" and (stored / "config.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my project é"]  # no folder named my%20project...
