"""What every test shares: the processes the tests start keep their temporary files under pytest's own folder.

A run killed on purpose (SIGKILL, a full disk) cannot remove its scratch folder (checkpoints, plots) the way one
that ends does; under pytest's folder they go with it when pytest prunes its older folders, instead of piling up
in the system's temporary directory."""

from __future__ import annotations

import os
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def scratch_of_started_processes(tmp_path_factory):
    tempfile.gettempdir()  # this process keeps the system's folder: a PostgreSQL server of another user reads there
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp_path_factory.mktemp("scratch"))
    yield
    if before is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = before
