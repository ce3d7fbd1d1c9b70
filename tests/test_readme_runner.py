"""Every command of the README's quick start, and of the runner page's command block (docs/runner.md, "Commands"),
runs as shown (in a temporary directory, against the default SQLite store there) and leaves FINISHED runs."""

from __future__ import annotations

import re
import shlex

import pytest

from docs_text import code_blocks, section
from runner_support import all_runs, client_for, run_cli

pytest.importorskip("mlflow")
pytest.importorskip("hydra")

# Setting up the environment is what this test process already stands on: cloning, making a venv, installing.
SETUP = ("git clone", "python3 -m venv", "source ", "pip install", "cd ")


def commands(block: str) -> list[str]:
    out = []
    for line in block.splitlines():
        line = line.split("  #")[0].strip()
        for part in (p.strip() for p in line.split("&&")):
            if part and not part.startswith("#") and not part.startswith(SETUP):
                out.append(part)
    return out


def quick_start() -> list[str]:
    return [c for block in code_blocks(section("README.md", "Quick start"), "bash") for c in commands(block)]


def runner_section() -> list[str]:
    return [c for block in code_blocks(section("docs/runner.md", "Commands"), "bash") for c in commands(block)]


def run_python_command(command: str, cwd):
    argv = shlex.split(command)
    assert argv[0] == "python", f"not a python command: {command}"
    if argv[1] == "-m":
        return run_cli(argv[3:], cwd, module=argv[2])
    assert argv[1] == "run.py", command
    return run_cli(argv[2:], cwd)


def test_the_quick_start_and_runner_sections_have_commands():
    assert "python run.py optimizer=adam lr=0.1" in quick_start()
    assert len(runner_section()) >= 5


def test_the_readme_runs_no_command_the_runner_page_does_not():
    """The README's runner example repeats commands of the runner page, so that the tests below run them too."""
    readme = section("README.md", "The three packages")
    shown = [c for block in code_blocks(readme, "bash") for c in commands(block) if c.startswith("python")]
    assert shown and set(shown) <= set(runner_section())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("readme")


@pytest.mark.slow
@pytest.mark.parametrize("command", quick_start())
def test_quick_start_command_runs(command, workdir):
    out = run_python_command(command, workdir)
    if command.startswith("python run.py"):
        assert f"--backend-store-uri sqlite:///{workdir.resolve() / 'mlflow.db'} --host 127.0.0.1" in out.stdout
        assert all(r.info.status == "FINISHED" for r in all_runs(client_for(workdir)))


@pytest.mark.slow
@pytest.mark.parametrize("command", runner_section())
def test_runner_section_command_runs(command, workdir):
    out = run_python_command(command, workdir)
    assert "Traceback" not in out.stderr
    assert not [r.info.run_name for r in all_runs(client_for(workdir)) if r.info.status == "RUNNING"]


def exploring_commands() -> list[str]:
    """The commands the README's "Exploring trajectories" walk-through names inline (`python ...`)."""
    return re.findall(r"`(python [^`]+)`", section("README.md", "Exploring trajectories"))


@pytest.mark.slow
def test_the_readme_walk_through_to_the_explorer(tmp_path):
    """The README's way from a sweep to the explorer: the sweep's parent holds explorer.html, and
    ``python -m experiments.compare <parent run id>`` writes comparisons/<parent run id>/explorer.html, which draws
    every child's path in headless Chromium."""
    from explorer_support import check_page
    from support.browser import open_page

    sweep_command, compare_command = exploring_commands()
    assert sweep_command.startswith("python run.py -m optimizer=")
    assert compare_command.startswith("python -m experiments.compare <parent run id")
    out = run_python_command(f"{sweep_command} steps=30 logging.plots=false", tmp_path)
    parent_id = re.search(r"^sweep ([0-9a-f]{32}) finished", out.stdout, re.M).group(1)
    client = client_for(tmp_path)
    assert "explorer.html" in {a.path for a in client.list_artifacts(parent_id)}
    children = len(sweep_command.split("optimizer=")[1].split()[0].split(","))
    run_python_command(f"python -m experiments.compare {parent_id}", tmp_path)
    page_file = tmp_path / "comparisons" / parent_id / "explorer.html"
    with open_page(page_file) as page:
        check_page(page, runs=children, state_keys=[])
