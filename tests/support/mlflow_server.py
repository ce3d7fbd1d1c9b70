"""A real ``mlflow server`` for tests: its own SQLite backend store and artifact root, bound to 127.0.0.1 on a
free port, started as a subprocess and always stopped (also restartable on the same port, to test outages)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """``with MlflowServer(tmp_path) as server: ... server.uri ...``; ``server.stop()`` / ``server.start()``."""

    def __init__(self, root: Path, port: int | None = None, startup_timeout: float = 120.0) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.log_path = self.root / "server.log"

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port),
                "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
                "--artifacts-destination", str(self.root / "artifacts"), "--workers", "1"]

    def start(self) -> "MlflowServer":
        command = self.command()
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.process.returncode}:\n"
                                   f"{self.log_path.read_text()[-3000:]}")
            if self.healthy():
                return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"mlflow server did not answer on {self.uri} within {self.startup_timeout} s:\n"
                           f"{self.log_path.read_text()[-3000:]}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """Kill the server and every process it started (gunicorn/uvicorn workers included)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.process = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.healthy():
            time.sleep(0.1)

    def __enter__(self) -> "MlflowServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class MlflowUi(MlflowServer):
    """``mlflow ui --backend-store-uri <store> --host 127.0.0.1 --port <port>``, the command a run's closing line
    gives, on the store ``backend_store_uri`` (``root`` holds only its log)."""

    def __init__(self, root: Path, backend_store_uri: str, port: int | None = None) -> None:
        super().__init__(root, port)
        self.backend_store_uri = backend_store_uri

    def command(self) -> list[str]:
        return [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", self.backend_store_uri, "--host",
                "127.0.0.1", "--port", str(self.port)]
