"""``python run.py *args`` many times without paying the interpreter's start-up and ``import mlflow`` each time.

One helper process imports the runner's libraries once; for each command it is sent it forks a process of the
command's own, which runs ``run.py`` as ``__main__`` (its module code included: signal handlers, plugin configs)
with that command line, in the command's folder, its stdout and stderr in files of its own, and exits with the
command's exit code after the interpreter's exit handlers, as ``python run.py`` would. A fork copies the helper's
memory, so each command starts from the same state: nothing one command does reaches the next.

For tests of what a command says and leaves behind (bad input: one paragraph, exit 2, no run), where a fresh
``python run.py`` would spend 1 s of every 1.2 s starting. Tests of start-up itself, signals and process groups
run the real command (runner_support.run_cli / start_cli).

    python tests/support/forked_cli.py      # reads one JSON request a line from stdin, answers on stdout
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_PY = ROOT / "run.py"
# what ``python run.py`` imports on its way to the first step (mlflow, hydra, sqlalchemy, the runner)
PRELOAD = ["hydra", "omegaconf", "mlflow", "mlflow.tracking", "sqlalchemy", "experiments", "experiments.jobs"]


class ForkedCli:
    """The helper process; ``run(args, cwd)`` returns a CompletedProcess as ``runner_support.run_cli`` does."""

    def __init__(self, env: dict | None = None):
        environment = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
        environment.update(env or {})
        self.process = subprocess.Popen([sys.executable, __file__], cwd=ROOT, env=environment, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.folder = Path(tempfile.mkdtemp(prefix="forked-cli-"))
        self.count = 0

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
        self.count += 1
        out, err = self.folder / f"{self.count}.out", self.folder / f"{self.count}.err"
        request = {"args": [str(a) for a in args], "cwd": str(cwd), "stdout": str(out), "stderr": str(err)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the forked-command helper exited with {self.process.wait()}"
        code = json.loads(answer)["returncode"]
        return subprocess.CompletedProcess(["python", "run.py", *args], code, out.read_text(), err.read_text())

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _child(request: dict) -> None:
    """In the forked process: become ``cd cwd && python run.py *args > stdout 2> stderr``; never returns."""
    import atexit
    import runpy
    import traceback

    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # the helper's requests are not the command's input
        os.close(null)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        os.chdir(request["cwd"])
        sys.argv = [str(RUN_PY), *request["args"]]
        try:
            runpy.run_path(str(RUN_PY), run_name="__main__")
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            if exit_.code is not None and not isinstance(exit_.code, int):
                print(exit_.code, file=sys.stderr)
        except BaseException:  # noqa: BLE001 - what the interpreter prints for an uncaught exception
            traceback.print_exc()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def serve() -> None:
    for module in PRELOAD:
        __import__(module)
    protocol = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        protocol.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        _, status = os.waitpid(pid, 0)
        protocol.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        protocol.flush()


if __name__ == "__main__":
    sys.path[0] = str(ROOT)  # as for ``python run.py``: the script's folder first
    serve()
