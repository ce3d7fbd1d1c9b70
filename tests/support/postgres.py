"""A real PostgreSQL server for tests (Debian's ``postgresql`` package): a scratch data directory, bound to 127.0.0.1
on a free port, password authentication, one database; always stopped (``with PostgresServer() as db: db.uri``).

PostgreSQL refuses to run as root, so when the tests run as root the data directory belongs to the ``postgres``
user the package creates and the server is run as that user (``runuser``)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.mlflow_server import free_port

USER, PASSWORD, DATABASE = "mlflow", "s3cret-Pg", "mlflow"


def binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (Debian keeps them out of PATH), or None without PostgreSQL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


class PostgresServer:
    def __init__(self) -> None:
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pg-test-"))  # not under pytest's 0700 root-only folders
        self.data = self.root / "data"
        self.owner = pwd.getpwnam("postgres") if os.getuid() == 0 else None

    @property
    def uri(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def _as_owner(self, *command: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self.owner else []
        return subprocess.run([*prefix, *command], capture_output=True, text=True, check=True, timeout=120)

    def start(self) -> "PostgresServer":
        password_file = self.root / "password"
        password_file.write_text(PASSWORD + "\n")
        if self.owner:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
            os.chown(password_file, self.owner.pw_uid, self.owner.pw_gid)
        self._as_owner(str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, f"--pwfile={password_file}",
                       "--auth=scram-sha-256", "--encoding=UTF8", "--no-instructions")
        password_file.unlink()
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root}"  # TCP on loopback only; the socket in our folder
        self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                       "-o", options, "-w", "-t", "60", "start")
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE],
                       env=env, capture_output=True, text=True, check=True, timeout=60)
        return self

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            except subprocess.CalledProcessError:
                pass  # never started, or already stopped
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
