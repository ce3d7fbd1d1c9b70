"""Faults that must neither lose nor delete data, nor leave a run RUNNING: each drives ``python run.py`` as a real
subprocess and reads the store back. The SQLite store under concurrency; what ``resume=`` and ``python -m
experiments.sync`` may delete; a second process resuming a run that is still alive; runs too large for this
machine."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
import signal
import subprocess
import sys
import time

import pytest

from runner_support import (ROOT, UNTIL_STOPPED, all_runs, client_for, every_point_present, history,
                            kill_everything, run_cli, start_cli, wait_for_run)
from support import stores

pytest.importorskip("mlflow")
pytest.importorskip("hydra")

from experiments.tracking import spool as spooling  # noqa: E402
from experiments.tracking import sqlite as sqlite_store  # noqa: E402


# -- the SQLite store: created once under a lock, repaired, locked by others ------------------------------------------

def healthy(database) -> bool:
    return sqlite_store.read_state(database, 5).ready(sqlite_store.head_revision())


@pytest.mark.slow
def test_runs_started_together_on_a_fresh_folder_all_succeed(tmp_path):
    for round_ in range(2):  # six at once failed 6 of 6 before the lock; a second round on a new folder for luck
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        processes = [start_cli(["steps=5", f"seed={i}"], folder) for i in range(6)]
        outputs = [(p.wait(timeout=600), *p.communicate()) for p in processes]
        assert [code for code, _, _ in outputs] == [0] * 6, outputs
        assert not any("Traceback" in err for _, _, err in outputs)
        runs = all_runs(client_for(folder))
        assert sorted(r.info.status for r in runs) == ["FINISHED"] * 6
        assert healthy(folder / "mlflow.db")


def store_with_runs(folder, runs: int):
    """A ready store in ``folder`` (made by this MLflow) holding ``runs`` finished runs."""
    from experiments.tracking import open_client

    client = open_client(f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.create_experiment("kept")
    for _ in range(runs):
        client.set_terminated(client.create_run(experiment).info.run_id, "FINISHED")


@pytest.mark.slow
def test_a_store_whose_migration_was_cut_short_is_rebuilt_when_it_holds_no_run(tmp_path):
    from mlflow.tracking import MlflowClient

    database = tmp_path / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{database}")
    client.search_experiments()  # created by MLflow itself, then broken as a migration race left it
    stores.cut_short_migration(database)
    assert not healthy(database)
    out = run_cli(["steps=5"], tmp_path, check=False)
    assert out.returncode == 0, out.stderr
    assert ("held nothing of the user's, and its schema migration was cut short (schema revision a8c4a736bde6"
            in out.stderr)
    assert "Traceback" not in out.stderr
    assert healthy(database)
    [run] = all_runs(client_for(tmp_path))
    assert run.info.status == "FINISHED"


@pytest.mark.slow
def test_a_half_migrated_store_with_runs_is_reported_and_left_untouched(tmp_path):
    database = tmp_path / "mlflow.db"
    store_with_runs(tmp_path, 2)
    stores.cut_short_migration(database)
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    out = run_cli(["steps=5"], tmp_path, check=False)
    assert out.returncode == 3, out.stderr
    [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    assert f"The SQLite store {database} cannot be used: its schema migration was cut short" in error
    assert "leftover tables _alembic_tmp_tags" in error and "it holds data (2 runs, 1 experiments" in error
    assert "mlflow db upgrade" in error and "Traceback" not in out.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def test_runs_left_only_in_a_migration_copy_are_data_too(tmp_path):
    import sqlite3

    from experiments.errors import StoreError

    database = tmp_path / "mlflow.db"
    store_with_runs(tmp_path, 1)
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = OFF")
    connection.execute("ALTER TABLE runs RENAME TO _alembic_tmp_runs")  # cut between the drop and the rename back
    connection.execute("DELETE FROM experiments WHERE experiment_id != 0")
    connection.close()
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    with pytest.raises(StoreError, match=r"leftover tables _alembic_tmp_runs\); it holds data \(1 runs"):
        sqlite_store.prepare(f"sqlite:///{database}", lock_timeout=5)
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


@pytest.mark.slow
def test_a_locked_store_is_waited_for_then_reported_with_its_holder(tmp_path):
    database = tmp_path / "mlflow.db"
    store_with_runs(tmp_path, 0)
    with stores.locked(database, seconds=600) as holder:
        out = run_cli(["steps=5", "tracking.lock_timeout=1"], tmp_path, check=False)
    assert out.returncode == 3, out.stderr
    [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    assert f"The SQLite store {database} is locked by another process (process {holder.pid}: " in error
    assert "was still locked after 1 s (tracking.lock_timeout)" in error and "Traceback" not in out.stderr
    assert all_runs(client_for(tmp_path)) == []
    with stores.locked(database, seconds=8):  # released well within the default wait: the run takes its turn
        out = run_cli(["steps=5"], tmp_path, check=False)
    assert out.returncode == 0, out.stderr
    [run] = all_runs(client_for(tmp_path))
    assert run.info.status == "FINISHED"


@pytest.mark.slow
def test_a_store_in_a_read_only_folder_fails_at_once_with_the_reason(tmp_path):
    with stores.tmpfs(tmp_path, read_only=True) as read_only:
        out = run_cli(["steps=5", f"tracking.uri=sqlite:///{read_only}/mlflow.db"], tmp_path, check=False)
        assert out.returncode == 2, out.stderr
        [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
        assert f"The SQLite store {read_only}/mlflow.db cannot be written: Read-only file system" in error
        assert "Traceback" not in out.stderr and not list(read_only.iterdir())



# -- deletions: only inside the folders the runner made for a run ----------------------------------------------------

def foreign_folder(folder: Path) -> dict[Path, bytes]:
    """A user's folder that holds a ``journal.jsonl`` shaped like a spool's, and other files; returns its files and
    their bytes."""
    folder.mkdir(parents=True)
    journal = [{"spool": 1, "tracking_uri": "sqlite:///nowhere.db", "run_id": "0123456789abcdef0123456789abcdef"},
               {"seq": 0, "op": "tag", "key": "k", "value": "v"}]
    (folder / "journal.jsonl").write_text("".join(json.dumps(line) + "\n" for line in journal))
    (folder / "thesis.tex").write_text("months of work\n")
    (folder / "files").mkdir()
    (folder / "files" / "data.bin").write_bytes(os.urandom(64))
    return snapshot(folder)


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_resume_takes_only_a_run_id_and_touches_no_folder_it_names(tmp_path):
    launch = tmp_path / "a" / "b"
    launch.mkdir(parents=True)
    outside = tmp_path / "a" / "x"  # resume=../../x from mlflow-spool/
    elsewhere = tmp_path / "elsewhere"
    files = {folder: foreign_folder(folder) for folder in (outside, elsewhere)}
    for value in (str(elsewhere), "../../x"):
        out = run_cli([f"resume={value}"], launch, check=False)
        assert out.returncode == 2, out.stderr
        assert "32 hexadecimal characters" in out.stderr and "Traceback" not in out.stderr
        assert {folder: snapshot(folder) for folder in files} == files  # every file there, byte for byte
    assert not (launch / "mlflow.db").exists()  # nothing read or created either


@pytest.mark.slow
def test_sync_refuses_a_folder_it_did_not_make_and_deletes_nothing(tmp_path):
    files = foreign_folder(tmp_path / "mine")
    for target in (tmp_path / "mine", tmp_path):  # the folder itself, and the folder holding it
        out = run_cli([str(target)], tmp_path, module="experiments.sync", check=False)
        assert out.returncode == 2 and "no run spool" in out.stderr and "spool.marker" in out.stderr, out.stderr
        assert snapshot(tmp_path / "mine") == files


def test_a_spool_removes_only_what_it_wrote(tmp_path):
    made = spooling.Spool.create(tmp_path, "0123456789abcdef0123456789abcdef", "sqlite:///x.db", None)
    artifact = tmp_path / "plot.png"
    artifact.write_bytes(b"png")
    kept = made.keep_file(artifact, 0)
    made.append({"seq": 0, "op": "artifact", "file": kept, "artifact_path": None})
    (made.directory / "notes.txt").write_text("a user's note put there")
    (made.directory / "files" / "mine.txt").write_text("a user's file")
    left = made.remove()
    assert sorted(p.name for p in left if p.is_file()) == ["mine.txt", "notes.txt"]
    assert not (made.directory / spooling.JOURNAL).exists() and not (made.directory / kept).exists()
    assert artifact.read_bytes() == b"png"

    clean = spooling.Spool.create(tmp_path, "offline-1", "sqlite:///x.db", None)
    assert clean.remove() == [] and not clean.directory.exists()


def test_a_spool_moved_or_forged_is_not_a_spool_and_is_never_removed(tmp_path):
    made = spooling.Spool.create(tmp_path / "root", "fedcba9876543210fedcba9876543210", "sqlite:///x.db", None)
    made.close()
    moved = tmp_path / "copied-elsewhere"
    made.directory.rename(moved)
    files = snapshot(moved)
    assert not spooling.is_spool(moved) and spooling.find(tmp_path) == []
    with pytest.raises(spooling.NotASpool, match="does not match"):
        spooling.Spool.open(moved)
    assert spooling.Spool(moved, "sqlite:///x.db", None).remove() and snapshot(moved) == files


def test_a_spool_is_never_created_inside_a_folder_it_did_not_make(tmp_path):
    files = foreign_folder(tmp_path / "0123456789abcdef0123456789abcdef")
    made = spooling.Spool.create(tmp_path, "0123456789abcdef0123456789abcdef", "sqlite:///x.db", None)
    assert made.directory.name.startswith("0123456789abcdef0123456789abcdef-") and spooling.is_spool(made.directory)
    assert snapshot(tmp_path / "0123456789abcdef0123456789abcdef") == files


@pytest.mark.parametrize("artifact_path", ["..", "../../etc", "config.yaml", "checkpoint/../x", "checkpoint/"])
def test_a_journal_can_only_delete_checkpoints(artifact_path):
    record = {"seq": 3, "op": "delete_artifact", "artifact_path": artifact_path}
    with pytest.raises(ValueError, match="only its checkpoints are ever deleted"):
        spooling.apply(None, "0123456789abcdef0123456789abcdef", record)


def test_the_artifact_folder_check_deletes_no_file_already_there(tmp_path):
    from experiments.tracking import check_artifact_location

    existing = tmp_path / f".write-test-{os.getpid()}"
    existing.write_text("someone's file")
    check_artifact_location(tmp_path.as_uri(), "experiment")
    assert existing.read_text() == "someone's file" and sorted(tmp_path.iterdir()) == [existing]


# -- a run still alive is not resumed by a second process ------------------------------------------------------------

@pytest.mark.slow
def test_resuming_a_run_that_is_still_alive_is_refused_and_the_live_run_ends_whole(tmp_path):
    import signal

    from runner_support import client_for, every_point_present, start_cli, wait_for_run

    # stopped (SIGSTOP) as soon as its first point is stored, so it need only outlast that instant: 5,000 steps of 24
    # keys are seconds of writing (the store takes 100,000 points a second)
    config = ["optimizer=adam", "steps=5000", "logging.plots=false", "tracking.experiment=live"]
    client = client_for(tmp_path)
    client.search_experiments()  # the store is created here, not by two processes at once
    live = start_cli(config, tmp_path)
    try:
        run_id = wait_for_run(client, "live", live).info.run_id
        live.send_signal(signal.SIGSTOP)  # alive but still: it cannot finish while the second process tries
        try:
            out = run_cli([f"resume={run_id}"], tmp_path, check=False)
        finally:
            live.send_signal(signal.SIGCONT)
        stdout, stderr = live.communicate(timeout=300)
    finally:
        live.kill()
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "still being written by another process" in out.stderr and "resume_force=true" in out.stderr
    assert f"process {live.pid} on this machine" in out.stderr
    assert live.returncode == 0, stderr
    assert client.get_run(run_id).info.status == "FINISHED"
    assert every_point_present(client, run_id, 5000)["Objective/loss"] == 5001  # one writer: each point once


def lease_tag(**fields) -> str:
    import time

    from experiments.tracking.lease import Lease

    mine = Lease.mine(heartbeat=30, timeout=90)
    return Lease(**{**mine.__dict__, "renewed": time.time(), **fields}).text()


@pytest.mark.parametrize("lease, live", [
    pytest.param({"host": "node-17"}, "process", id="another-machine-renewed-now"),
    pytest.param({"host": "node-17", "renewed": 0.0}, None, id="another-machine-expired"),
    pytest.param({}, "on this machine", id="this-process"),
    pytest.param({"pid": 2 ** 22 + 1}, None, id="this-machine-process-gone"),
    pytest.param({"process_start": "1"}, None, id="this-machine-pid-reused"),
])
def test_a_lease_is_live_until_its_holder_is_provably_gone_or_it_expires(tmp_path, lease, live):
    from mlflow.tracking import MlflowClient

    from experiments.errors import ConfigError
    from experiments.resume import refuse_if_alive

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = client.create_run(client.create_experiment("leases"), tags={"lease": lease_tag(**lease)})
    stored = client.get_run(run.info.run_id)
    if live is None:
        refuse_if_alive(stored)
    else:
        with pytest.raises(ConfigError, match=live):
            refuse_if_alive(stored)
    refuse_if_alive(stored, force=True)  # resume_force=true
    client.set_terminated(run.info.run_id, "KILLED")  # a run that ended itself released its lease
    client.set_tag(run.info.run_id, "lease", lease_tag(**lease, state="released"))
    refuse_if_alive(client.get_run(run.info.run_id))


def test_a_resume_claims_the_run_so_a_second_resume_of_a_stopped_run_is_refused(tmp_path):
    """A KILLED run claimed by a resume that has not written yet is not resumed a second time: a claim is a lease
    whatever the run's status; the second claimant gives way when the tag it reads back is not its own."""
    from mlflow.tracking import MlflowClient
    from omegaconf import OmegaConf

    from experiments.errors import ConfigError
    from experiments.resume import claim_lease, refuse_if_alive

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = client.create_run(client.create_experiment("claims")).info.run_id
    client.set_terminated(run_id, "KILLED")
    cfg = OmegaConf.create({"resume": run_id, "tracking": {"lease_heartbeat": 30, "lease_timeout": 90}})
    claim = claim_lease(client, run_id, cfg)  # nobody else: this process holds the claim
    assert claim.state == "claim"
    with pytest.raises(ConfigError, match="still being written by another process"):
        refuse_if_alive(client.get_run(run_id))  # a second resume, from this same (live) process, is refused
    import threading

    # another machine claims while this one waits to read its claim back: the later claim wins
    rival = threading.Timer(0.3, client.set_tag, (run_id, "lease", lease_tag(host="node-17", state="claim")))
    rival.start()
    with pytest.raises(ConfigError, match="process .* on node-17 is resuming this run at the same moment"):
        claim_lease(client, run_id, cfg)
    rival.join()


@pytest.mark.slow
def test_two_resumes_started_together_leave_one_writer(tmp_path):
    from runner_support import client_for, every_point_present, start_cli

    client = client_for(tmp_path)
    config = ["optimizer=adam", "steps=40", "logging.plots=false", "tracking.experiment=twice"]
    first = run_cli([*config, "checkpoint.every=10"], tmp_path)
    run_id = first.stdout.split("run ", 1)[1].split()[0]
    client.set_terminated(run_id, "KILLED")  # as if stopped early: both resumes find a stopped run
    both = [start_cli([f"resume={run_id}"], tmp_path, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [process.communicate(timeout=300) for process in both]
    codes = sorted(process.returncode for process in both)
    assert codes == [0, 2], outs
    assert any("is resuming this run at the same moment" in err or "still being written" in err
               for _, err in outs), outs
    assert client.get_run(run_id).info.status == "FINISHED"
    assert every_point_present(client, run_id, 40)["Objective/loss"] == 41


# -- a full disk: its own condition, a clean stop, exit code 4 ---------------------------------------------------------

def files_in(folder) -> set:
    return {p.relative_to(folder) for p in folder.rglob("*")}


@pytest.mark.slow
def test_a_full_disk_stops_the_run_failed_and_says_what_was_kept(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    with stores.tmpfs(outside, size="32m") as mount:
        before = files_in(tmp_path) - {p for p in files_in(tmp_path) if mount in (tmp_path / p).parents}
        work, scratch = mount / "work", mount / "tmp"
        work.mkdir(), scratch.mkdir()
        env = {"TMPDIR": str(scratch)}  # the run's scratch files on the full disk too, as on a one-disk machine
        run_cli(["steps=2"], work, env=env)  # the store exists already, as on any disk that fills up later
        stores.fill(mount, leave=3_000_000)  # room for a few thousand points and checkpoints, not for 3000 steps
        # limits.check=false: the disk fills while the run goes on (another process filling it), not before it
        # starts, when the estimate would refuse it
        out = run_cli(["steps=3000", "checkpoint.every=100", "limits.check=false"], work, env=env, check=False)
        assert out.returncode == 4, out.stderr
        assert "Traceback" not in out.stderr and "Nothing is lost" not in out.stderr
        assert "unreachable" not in out.stderr and not (work / "mlflow-spool").exists()  # no spool on a full disk
        [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
        # the store's database or a scratch file (a checkpoint, the trajectory): whichever meets the full disk first
        why = error.split("A disk the run writes to is full (", 1)[1].split("), so run ", 1)[0]
        assert why in ("SQLite: database or disk is full", "No space left on device"), error
        assert "The run is marked FAILED, with the reason in its failure_reason tag." in error
        assert f"Kept in the store sqlite:///{work}/mlflow.db: its parameters, " in error
        kept = error.split("Not kept")[0]
        assert "metric points, from step 0 to step " in kept and "artifacts: config.yaml, " in kept
        assert "checkpoint/step-" in kept
        assert "Not kept: the points of the steps after " in error and "artifacts: " in error.split("Not kept")[1]
        (mount / "filler").unlink()
        runs = sorted(all_runs(client_for(work)), key=lambda r: r.info.start_time)
        assert [r.info.status for r in runs] == ["FINISHED", "FAILED"]
        assert runs[1].data.tags["failure_reason"] == f"disk full: {why}"
        run_id = runs[1].info.run_id
        assert f"python run.py resume={run_id}" in error
        run_cli([f"resume={run_id}"], work, env=env)  # with space again, the run goes on from its checkpoint
        client = client_for(work)
        assert client.get_run(run_id).info.status == "FINISHED"
        assert [step for step, _ in history(client, run_id, "Objective/loss")] == list(range(3001))
        after = files_in(tmp_path) - {p for p in files_in(tmp_path) if mount in (tmp_path / p).parents}
        assert after == before  # nothing written outside the full disk
        assert not list(scratch.iterdir())  # the scratch folder cleaned up


def test_a_message_lists_a_long_series_of_numbered_artifacts_as_one_entry():
    from experiments.tracking.lifecycle import listed

    stretches = [f"checkpoint/history-{k:09d}.npz" for k in range(100, 1100, 100)]
    names = ["config.yaml", *stretches[:5], "checkpoint/step-000000500.npz", *stretches[5:],
             "checkpoint/step-000001000.npz", "trajectory.npz"]
    assert listed(names) == ("config.yaml, checkpoint/history-000000100.npz to checkpoint/history-000001000.npz "
                             "(10 files), checkpoint/step-000000500.npz, checkpoint/step-000001000.npz, "
                             "trajectory.npz")
    assert listed([]) == "none"
    assert listed([stretches[2], stretches[0], stretches[2], stretches[1]]) == (
        "checkpoint/history-000000100.npz to checkpoint/history-000000300.npz (4 files)")


@pytest.mark.slow
def test_a_run_is_marked_failed_on_a_disk_too_full_for_a_journal(tmp_path):
    from experiments.tracking import disk, open_client

    with stores.tmpfs(tmp_path, size="4m") as mount:
        database = mount / "mlflow.db"
        client = open_client(f"sqlite:///{database}")
        run_id = client.create_run(client.create_experiment("full")).info.run_id
        stores.fill(mount)  # not a block left: MLflow's own update cannot even start its journal
        assert disk.mark_failed(client, run_id, "disk full: test", database, "failure_reason")
        (mount / "filler").unlink()
        run = client.get_run(run_id)
        assert run.info.status == "FAILED" and run.info.end_time is not None


def test_a_full_disk_is_recognised_in_every_form():
    import errno

    from experiments.tracking import disk
    from experiments.tracking.faults import is_unreachable

    quota = OSError(errno.EDQUOT, "Disk quota exceeded", "/home/u/mlflow.db")
    for error in [OSError(errno.ENOSPC, "No space left on device"), quota, RuntimeError("database or disk is full")]:
        wrapped = RuntimeError("writing metrics to MLflow failed")
        wrapped.__cause__ = error
        assert disk.is_disk_full(wrapped) and not is_unreachable(wrapped)
    assert disk.reason(quota) == "Disk quota exceeded (/home/u/mlflow.db)"
    assert not disk.is_disk_full(OSError(errno.EACCES, "Permission denied"))


@pytest.mark.slow
def test_a_full_scratch_disk_stops_the_run_failed_with_the_store_intact(tmp_path):
    with stores.tmpfs(tmp_path, size="1m") as scratch:
        stores.fill(scratch, leave=32_000)  # room for the config, not for a checkpoint of 1000 steps
        out = run_cli(["steps=3000", "checkpoint.every=1000", "limits.check=false"], tmp_path,
                      env={"TMPDIR": str(scratch)}, check=False)  # the disk fills during the run, not before
    assert out.returncode == 4, out.stderr
    assert "Traceback" not in out.stderr
    [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    # the scratch folder's own ENOSPC, or SQLite's when its temporary files (in TMPDIR too) meet the full disk first
    assert re.search(r"A disk the run writes to is full \((No space left on device|SQLite: database or disk is full)",
                     error), error
    assert "The run is marked FAILED, with the reason in its failure_reason tag." in error
    [run] = all_runs(client_for(tmp_path))
    assert run.info.status == "FAILED" and run.data.tags["failure_reason"].startswith("disk full: ")


# -- runs too large for this machine: refused before anything is built, memory bounded by what is written ------------

TOO_LARGE = [
    # logistic_regression's data alone: 100,000 features x 100,000 samples and a Hessian as large (~400 GB)
    pytest.param(["objective=logistic_regression", "objective.n_features=100000", "objective.n_samples=100000",
                  "objective.batch_size=32"], "of memory", id="objective-data"),
    # one recorded step per update for ever: the trajectory kept in memory, the points in the store
    pytest.param(["steps=1000000000000"], "nothing was run", id="steps-1e12"),
    pytest.param(["steps=1000000000000", "logging.trajectory=false", "logging.plots=false"], "would write about",
                 id="steps-1e12-no-trajectory"),
    # 3,000,000 per-element keys a step for 100 steps: beyond the disk here, else beyond the confirmation size
    pytest.param(["objective=rosenbrock", "objective.dim=1000000", "logging.max_elements=100000000", "steps=100"],
                 "would write about", id="max-elements-1e8"),
]


@pytest.mark.slow
@pytest.mark.parametrize("args, message", TOO_LARGE)
def test_a_run_this_machine_cannot_hold_is_refused_with_its_numbers_before_anything_is_built(tmp_path, args, message):
    out = run_cli(args, tmp_path, check=False)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert "metric points" in out.stderr and " GB" in out.stderr or " TB" in out.stderr
    assert not (tmp_path / "mlflow.db").exists()  # no store opened, no run created


@pytest.mark.slow
def test_a_run_writing_more_than_the_confirmation_size_needs_limits_confirm_and_says_what_it_writes(tmp_path):
    small = ["steps=10", "limits.confirm_above_gb=0.000001", "logging.plots=false"]
    refused = run_cli(small, tmp_path, check=False)
    assert refused.returncode == 2 and "limits.confirm=true" in refused.stderr and "1e-06" in refused.stderr
    assert not (tmp_path / "mlflow.db").exists()
    confirmed = run_cli([*small, "limits.confirm=true"], tmp_path)
    said = confirmed.stdout.split("This run will write about", 1)[1]
    estimated = int(said.split(" metric points (12 recorded steps)")[0].rsplit(" ", 1)[-1].replace(",", ""))
    client = client_for(tmp_path)
    [run] = all_runs(client)
    stored = sum(len(client.get_metric_history(run.info.run_id, key)) for key in run.data.metrics)
    assert run.info.status == "FINISHED" and 0 < stored <= estimated  # an upper bound, said before the run


@pytest.mark.slow
def test_memory_grows_with_what_is_written_not_with_steps_times_size(tmp_path):
    """A million coordinates for 100 steps with nothing recorded: no path is kept for a contour plot that cannot
    be drawn (it used to hold 100 x 1e6 float64, 0.8 GB, on top of ~0.4 GB)."""
    import sys

    peak = tmp_path / "peak.py"
    # the process's own high-water mark: getrusage's ru_maxrss would count this (large) test process's peak, which
    # a child started by fork (or vfork) then exec inherits
    peak.write_text("import pathlib, runpy, sys\n"
                    "sys.argv = sys.argv[1:]\n"
                    "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
                    "finally:\n"
                    "    status = pathlib.Path('/proc/self/status').read_text()\n"
                    "    print('peak', status.split('VmHWM:')[1].split()[0], flush=True)\n")
    import subprocess

    from runner_support import RUN_PY

    out = subprocess.run([sys.executable, str(peak), str(RUN_PY), "objective=rosenbrock", "objective.dim=1000000",
                          "steps=100", "logging=off"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    peak_kb = int(out.stdout.split("peak")[-1])
    assert peak_kb < 700_000, peak_kb


def test_the_estimate_counts_the_objective_data_without_building_it():
    from omegaconf import OmegaConf

    from experiments import budget

    objective = OmegaConf.create({"name": "logistic_regression", "n_samples": 10_000_000, "n_features": 100,
                                  "batch_size": 32, "l2": 0.01, "fit_intercept": False, "data_seed": 0, "init": None})
    sizes, data = budget.objective_shape(objective)  # instant: 8 GB of data are not made to be counted
    assert sizes == [100] and data >= 3 * 8 * 10_000_000 * 100
    sizes, data = budget.objective_shape(OmegaConf.create({"name": "rosenbrock", "dim": 10_000_000, "init": None}))
    assert sizes == [10_000_000] and data == 0
    sizes, _ = budget.objective_shape(OmegaConf.create({"name": "seed", "init": None}))  # built: it is small
    assert sum(sizes) >= 1


@pytest.mark.slow
def test_a_database_of_someone_elses_given_as_the_store_is_never_emptied(tmp_path):
    import sqlite3

    database = tmp_path / "inventory.db"
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE customers (name TEXT)")  # its schema only, no row yet: still someone's
    connection.commit()
    connection.close()
    before = database.read_bytes()
    out = run_cli(["steps=3", f"tracking.uri=sqlite:///{database}"], tmp_path, check=False)
    assert out.returncode == 3 and "tables MLflow does not make (customers)" in out.stderr, out.stderr
    assert database.read_bytes() == before and "Traceback" not in out.stderr


# -- Ctrl-C and SIGTERM: one line, exit 130 or 143, the run KILLED, in every phase ----------------------------------

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("interrupted")


def runs_of(client, experiment: str) -> list:
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


def assert_interrupted(process, out: str, err: str, signum: int) -> None:
    """Exit 130 (SIGINT) or 143 (SIGTERM), no traceback, the last line says what stopped it."""
    assert process.returncode == 128 + signum, (process.returncode, err[-3000:])
    assert "Traceback" not in err, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith(("Interrupted by", "Stopped at once by")), last
    assert signal.Signals(signum).name in last


@pytest.mark.slow
@pytest.mark.parametrize("signum, after", [(signal.SIGINT, 0.3), (signal.SIGTERM, 1.5), (signal.SIGINT, 3.0)])
def test_a_signal_during_start_up_ends_cleanly_and_no_run_goes_on(store, signum, after):
    """Whatever start-up is doing (imports, composing the config, opening the store, creating the run), the signal
    is acted on: never swallowed, no run left RUNNING or going on to finish."""
    experiment = f"start-up-{signum}-{after}"
    process = start_cli(["optimizer=adam", *UNTIL_STOPPED, "logging.plots=false",
                         f"tracking.experiment={experiment}"], store)
    try:
        time.sleep(after)
        process.send_signal(signum)
        out, err = process.communicate(timeout=120)
    finally:
        kill_everything(process)
    assert_interrupted(process, out, err, signum)
    if (store / "mlflow.db").exists():
        assert {r.info.status for r in runs_of(client_for(store), experiment)} <= {"KILLED"}


FLUSHED_STEPS = 1000  # 400,000 points: the loop ends with up to 200,000 still to write


def start_and_wait_for_the_loop_to_end(store, experiment: str, steps: int):
    """A run whose final flush lasts seconds (400 points a step: the loop runs far ahead of the writer and ends with
    up to the writer's 200,000 pending points), started and watched until its progress bar is closed: it is then
    flushing what it logged."""
    process = start_cli(["objective=quadratic", "objective.dim=100", "optimizer=adam", f"steps={steps}",
                         "logging.plots=false", "logging.progress=true",
                         f"tracking.experiment={experiment}"], store)
    seen = []
    while True:
        line = process.stderr.readline()
        assert line or process.poll() is None, "".join(seen)
        seen.append(line)
        if f"{steps}/{steps}" in line:
            return process, "".join(seen)


@pytest.mark.slow
def test_a_signal_during_the_final_flush_lets_it_finish_and_the_run_ends_killed(store):
    process, before = start_and_wait_for_the_loop_to_end(store, "flush-interrupted", steps=FLUSHED_STEPS)
    try:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=300)
    finally:
        kill_everything(process)
    assert_interrupted(process, out, before + err, signal.SIGTERM)
    [run] = runs_of(client_for(store), "flush-interrupted")
    assert run.info.status == "KILLED" and "failure_reason" not in run.data.tags
    assert every_point_present(client_for(store), run.info.run_id, FLUSHED_STEPS)["param/x.99"] == FLUSHED_STEPS + 1


@pytest.mark.slow
def test_a_second_ctrl_c_during_the_flush_stops_at_once_and_the_spool_keeps_the_rest(store):
    process, before = start_and_wait_for_the_loop_to_end(store, "flush-stopped", steps=FLUSHED_STEPS)
    try:
        process.send_signal(signal.SIGINT)
        time.sleep(0.1)  # the flush of up to 200,000 points lasts about a second
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        kill_everything(process)
    assert_interrupted(process, out, before + err, signal.SIGINT)
    last = err.strip().splitlines()[-1]
    assert last.startswith("Stopped at once by SIGINT") and "has not received" in last, last
    spool = last.split("they are kept in ")[1].split(" ")[0]
    client = client_for(store)
    [run] = runs_of(client, "flush-stopped")
    subprocess.run([sys.executable, "-m", "experiments.sync", spool], cwd=ROOT, check=True, capture_output=True,
                   timeout=600)
    run = client.get_run(run.info.run_id)
    assert run.info.status == "KILLED"
    assert every_point_present(client, run.info.run_id, FLUSHED_STEPS)["param/x.99"] == FLUSHED_STEPS + 1


@pytest.mark.slow
def test_ctrl_c_in_the_loop_exits_130_with_one_line_and_the_run_killed(store):
    process = start_cli(["optimizer=adam", *UNTIL_STOPPED, "logging.plots=false", "tracking.experiment=loop-int"],
                        store)
    client = client_for(store)
    try:
        run = wait_for_run(client, "loop-int", process, min_points=5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        kill_everything(process)
    assert_interrupted(process, out, err, signal.SIGINT)
    assert f"run {run.info.run_id} ended KILLED after" in err and f"resume={run.info.run_id}" in err
    assert client.get_run(run.info.run_id).info.status == "KILLED"
    assert not [r for r in all_runs(client) if r.info.status == "RUNNING"]
