"""Metric points written straight into the SQL store's tables read back exactly as ``log_batch`` stores them:
histories, latest values and ordering by a metric, NaN and infinities included, identical points and points stored
before skipped; unknown schema revisions go through ``log_batch``."""
from __future__ import annotations

import math
import sqlite3

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

pytest.importorskip("mlflow")

NAN, INF = float("nan"), float("inf")

# Batches of (key, value, timestamp_ms, step): NaN and infinities, several steps of one key in one batch and out of
# order, equal steps with other timestamps, identical points in one batch, and a later batch that does and does
# not replace each key's latest value.
BATCHES = [
    [("loss", 3.0, 1000, 0), ("loss", 2.0, 1001, 1), ("loss", 2.5, 1000, 1), ("grad/a.0", NAN, 1000, 0),
     ("grad/a.1", INF, 1000, 0), ("grad/a.2", -INF, 1000, 0), ("lr", 0.1, 1000, 0),
     ("Objective/loss", -0.0, 1000, 0), ("Objective/loss", 1e-300, 1000, 0), ("same", 1.0, 5, 3),
     ("same", 2.0, 5, 3), ("same", 0.5, 6, 3), ("tie", 0.0, 7, 2), ("tie", NAN, 7, 2)],
    [("loss", 1.0, 999, 1), ("loss", NAN, 1002, 2), ("grad/a.0", 4.0, 999, 0), ("grad/a.1", 5.0, 1000, 1),
     ("lr", 0.05, 1000, 0), ("same", 2.0, 5, 3), ("new", 7.0, 1, 0)],
    [("lr", 0.2, 1001, 1), ("lr", 0.2, 1001, 1), ("new", 8.0, 2, 1)],  # identical points: stored once
]


def as_blocks(points):
    """The points as the runner's writer hands them over: one block per run of equal (step, timestamp)."""
    from experiments.tracking.points import Points

    blocks = []
    for key, value, timestamp, step in points:
        if blocks and blocks[-1][:2] == (step, timestamp):
            blocks[-1][2].append(key)
            blocks[-1][3].append(value)
        else:
            blocks.append((step, timestamp, [key], [value]))
    return Points(blocks)


def client_at(path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{path / 'mlflow.db'}")


def _history(client, run_id: str, key: str) -> list:
    points = [(m.step, m.timestamp, "nan" if math.isnan(m.value) else m.value)
              for m in client.get_metric_history(run_id, key)]
    return points  # in the order MLflow returns them


def _latest(client, run_id: str) -> dict:
    return {k: "nan" if math.isnan(v) else v for k, v in client.get_run(run_id).data.metrics.items()}


@pytest.mark.parametrize("where", ["here", "process"])
@pytest.mark.parametrize("form", [list, as_blocks])
def test_the_fast_path_stores_what_log_batch_stores(tmp_path, form, where):
    """On a connection of this process (small batches) and in the writer's own process (large ones) alike."""
    from mlflow.entities import Metric

    from experiments.tracking import bulk

    client = client_at(tmp_path)
    experiment = client.create_experiment("equal")
    by_batch, by_bulk = (client.create_run(experiment).info.run_id for _ in range(2))
    writer = bulk.writer_for(client)
    assert writer is not None
    writer.process_from = 1 if where == "process" else 10 ** 9
    for points in BATCHES:
        client.log_batch(by_batch, metrics=[Metric(*p) for p in points], synchronous=True)
        assert writer.write(by_bulk, form(points)) is True  # twins, and points stored before, too
    started = writer._process
    writer.close()
    assert (started is not None) == (where == "process") and (started is None or started._process.poll() == 0)
    keys = {p[0] for batch in BATCHES for p in batch}
    for key in keys:
        assert _history(client, by_bulk, key) == _history(client, by_batch, key), key
    assert _latest(client, by_bulk) == _latest(client, by_batch)
    assert len(_latest(client, by_bulk)) == len(keys)


VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1.0, NAN, INF]))
# Few keys, steps and timestamps: ties, repeats, rising and falling steps within a key, identical points.
# Steps at int64's ends as well: a difference of two steps overflows there.
STEPS = st.one_of(st.integers(0, 4), st.sampled_from([-5 * 10 ** 18, 5 * 10 ** 18]))
POINT = st.tuples(st.sampled_from(["a", "b", "c/d"]), VALUES, st.integers(0, 3), STEPS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(POINT, min_size=1, max_size=25), min_size=1, max_size=3), blocks=st.booleans())
@example(batches=[[("a", 1.0, 0, 5 * 10 ** 18), ("a", 2.0, 0, -5 * 10 ** 18)]], blocks=False)  # a falling step
def test_any_batches_read_back_as_log_batch_stores_them(tmp_path, batches, blocks):
    """Whatever the points (steps rising, falling or tied within a key), each key's history in the order MLflow
    returns it and each key's latest value are those ``log_batch`` leaves."""
    from mlflow.entities import Metric

    from experiments.tracking import bulk

    client = client_at(tmp_path)  # one store for all examples: two new runs each
    experiment = client.get_experiment_by_name("any") or client.get_experiment(client.create_experiment("any"))
    by_batch, by_bulk = (client.create_run(experiment.experiment_id).info.run_id for _ in range(2))
    writer = bulk.writer_for(client)
    for points in batches:
        client.log_batch(by_batch, metrics=[Metric(*p) for p in points], synchronous=True)
        assert writer.write(by_bulk, as_blocks(points) if blocks else points) is True
    for key in {p[0] for batch in batches for p in batch}:
        assert _history(client, by_bulk, key) == _history(client, by_batch, key), key
    assert _latest(client, by_bulk) == _latest(client, by_batch)


def test_runs_order_by_a_metric_the_same_way(tmp_path):
    from mlflow.entities import Metric

    from experiments.tracking import bulk

    client = client_at(tmp_path)
    finals = [0.5, NAN, 3.0, -INF, 2.0]
    orders = {}
    for way in ("log_batch", "bulk"):
        experiment = client.create_experiment(way)
        names = {}
        for i, final in enumerate(finals):
            run_id = client.create_run(experiment, run_name=f"run-{i}").info.run_id
            names[run_id] = i
            points = [("loss", 10.0, 1, 0), ("loss", final, 2, 1)]
            if way == "log_batch":
                client.log_batch(run_id, metrics=[Metric(*p) for p in points], synchronous=True)
            else:
                bulk.log_points(client, run_id, points)
        for order in ("metrics.loss ASC", "metrics.loss DESC"):
            runs = client.search_runs([experiment], order_by=[order])
            orders[way, order] = [names[r.info.run_id] for r in runs]
    for order in ("metrics.loss ASC", "metrics.loss DESC"):
        assert orders["bulk", order] == orders["log_batch", order]


def test_points_already_stored_are_skipped_as_log_batch_skips_them(tmp_path):
    from experiments.tracking import bulk

    client = client_at(tmp_path)
    run_id = client.create_run(client.create_experiment("twice")).info.run_id
    points = [("loss", float(i), 1000 + i, i) for i in range(50)]
    bulk.log_points(client, run_id, points[:30])
    # a spool sent again after a crash: the first 30 are there already (the fast path itself skips them)
    assert bulk.writer_for(client).write(run_id, points) is True
    assert [m.step for m in sorted(client.get_metric_history(run_id, "loss"), key=lambda m: m.step)] == list(range(50))
    assert client.get_run(run_id).data.metrics["loss"] == 49.0


def test_a_deleted_run_is_refused_as_log_batch_refuses_it(tmp_path):
    from mlflow.exceptions import MlflowException

    from experiments.tracking import bulk

    client = client_at(tmp_path)
    run_id = client.create_run(client.create_experiment("deleted")).info.run_id
    client.delete_run(run_id)
    with pytest.raises(MlflowException, match="must be in the 'active' state"):
        bulk.log_points(client, run_id, [("loss", 1.0, 1, 0)])


def test_a_store_on_an_unknown_schema_revision_is_written_through_log_batch(tmp_path, capfd):
    from experiments.tracking import bulk

    client_at(tmp_path).search_experiments()  # creates the store
    with sqlite3.connect(tmp_path / "mlflow.db") as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    # MLflow itself refuses a store whose revision it does not know; the check is the fast path's own
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = object.__new__(SqlAlchemyStore)
    import sqlalchemy

    store.engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'mlflow.db'}")
    writer, reason = bulk.BulkWriter.for_store(store)
    assert writer is None and "schema revision ffffffffffff" in reason
    bulk._tell(reason)
    assert capfd.readouterr().err.count("Metrics are written through MLflow's log_batch") == 1


def test_a_writer_process_that_is_gone_leaves_the_writing_to_the_run_s_own_process(tmp_path, capfd):
    from experiments.tracking import bulk

    client = client_at(tmp_path)
    run_id = client.create_run(client.create_experiment("gone")).info.run_id
    writer = bulk.writer_for(client)
    writer.process_from = 1
    points = [("loss", float(i), 1000 + i, i) for i in range(40)]
    assert writer.write(run_id, points[:20]) is True
    writer._process._process.kill()
    writer._process._process.wait()
    assert writer.write(run_id, points[20:]) is True
    assert writer.write(run_id, points[:1]) is True  # no second attempt at the process, no second notice
    writer.close()
    assert [m.step for m in sorted(client.get_metric_history(run_id, "loss"), key=lambda m: m.step)] == list(range(40))
    assert capfd.readouterr().err.count("the metrics writer process ended") == 1


def test_the_sql_kept_as_text_is_what_mlflow_s_table_definitions_compile_to():
    """bulk.STATEMENTS (the run's process writes without importing MLflow) against MLflow's own models."""
    import sqlalchemy.dialects.sqlite
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlRun

    from experiments.tracking import bulk

    dialect = sqlalchemy.dialects.sqlite.dialect(paramstyle="qmark")
    compiled = (SqlMetric.__table__.insert().prefix_with("OR IGNORE")
                .values({name: None for name in bulk.COLUMNS}).compile(dialect=dialect, column_keys=list(bulk.COLUMNS)))
    assert tuple(compiled.positiontup) == bulk.COLUMNS
    head, _, row = str(compiled).partition(" VALUES ")
    runs, latest = SqlRun.__table__, SqlLatestMetric.__table__
    sql = bulk.STATEMENTS
    assert (sql.insert_head, sql.row) == (f"{head} VALUES", row)
    assert (sql.runs, sql.runs_id, sql.runs_stage) == (runs.name, runs.c.run_uuid.name, runs.c.lifecycle_stage.name)
    assert sql.latest == latest.name and sql.latest_columns == tuple(latest.c[name].name for name in bulk.COLUMNS)


def test_a_direct_client_s_points_go_through_the_fast_path_on_its_database(tmp_path):
    from experiments.tracking import bulk
    from experiments.tracking.direct import DirectClient

    client = client_at(tmp_path)
    run_id = client.create_run(client.create_experiment("direct")).info.run_id
    direct = DirectClient(client.tracking_uri, tmp_path / "mlflow.db")
    writer = bulk.writer_for(direct)
    assert isinstance(writer, bulk.BulkWriter) and writer.database == str(tmp_path / "mlflow.db")
    bulk.log_points(direct, run_id, [("loss", float(i), 1000 + i, i) for i in range(5)])
    assert [m.step for m in sorted(client.get_metric_history(run_id, "loss"), key=lambda m: m.step)] == list(range(5))
