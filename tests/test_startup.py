"""The garbage collector around ``python run.py``'s start-up (experiments/startup.py): held off while the libraries
load, everything start-up made frozen and collection back on before the first step; ``run(cfg)`` as a library
leaves the caller's collector alone. Each check runs in its own interpreter (the collector is process-wide)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.runner_support import ROOT, RUN_PY, run_id_from


def python(code: str, cwd=ROOT) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_hold_then_release_freezes_what_start_up_made_and_collects_again():
    out = python("""
        import gc
        from experiments import startup
        startup.hold()
        print(gc.isenabled(), startup.held())
        made = [[i] for i in range(1000)]
        startup.release()
        print(gc.isenabled(), startup.held(), gc.get_freeze_count() >= 1000)
        frozen = gc.get_freeze_count()
        startup.release()  # a second release (a sweep's next job) changes nothing
        print(gc.get_freeze_count() == frozen)
    """)
    assert out.split() == ["False", "True", "True", "False", "True", "True"]


def test_release_without_hold_leaves_the_collector_alone():
    out = python("""
        import gc
        from experiments import startup
        gc.set_threshold(500, 7, 9)
        startup.release()
        print(gc.isenabled(), gc.get_freeze_count(), gc.get_threshold())
    """)
    assert out.split() == ["True", "0", "(500,", "7,", "9)"]


@pytest.mark.slow
def test_the_command_collects_again_before_the_first_step(tmp_path):
    """``python run.py`` (its own __main__): the collector is off during start-up and on, with start-up's objects
    frozen, when the loop begins; the run is recorded as usual."""
    out = python(f"""
        import gc, runpy, sys
        import experiments.loop as loop
        original = loop.Loop.run
        def run(self):
            print("collector at the first step:", gc.isenabled(), gc.get_freeze_count() > 100_000, flush=True)
            return original(self)
        loop.Loop.run = run
        sys.argv = [{str(RUN_PY)!r}, "steps=2", "logging.plots=false"]
        runpy.run_path(sys.argv[0], run_name="__main__")
    """, cwd=tmp_path)
    assert "collector at the first step: True True" in out
    assert run_id_from(out)


@pytest.mark.slow
def test_a_library_run_leaves_the_collector_alone(tmp_path):
    out = python(f"""
        import gc
        from hydra import compose, initialize_config_dir
        from experiments.runner import run
        with initialize_config_dir(config_dir={str(ROOT / "configs")!r}, version_base="1.3"):
            cfg = compose(config_name="config", overrides=["steps=2", "logging.plots=false"])
        result = run(cfg, launch_dir={str(tmp_path)!r})
        print(result.status, gc.isenabled(), gc.get_freeze_count())
    """, cwd=tmp_path)
    assert out.split()[-3:] == ["FINISHED", "True", "0"]
