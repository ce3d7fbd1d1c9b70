"""Real distributions for tests: sources built into wheels with ``pip wheel`` and installed with ``pip install
--target`` into folders of their own, which a test puts on PYTHONPATH so that importlib.metadata finds exactly them.
No index is asked (``--no-index``; no build isolation when setuptools is already here)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path


def pip(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    assert result.returncode == 0, f"pip {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


def write_sources(folder: Path, files: dict[str, str]) -> Path:
    """``files`` (relative path -> text, dedented) written under ``folder``."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def copy_sources(source: Path, folder: Path) -> Path:
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    return folder


def install(base: Path, sources: dict[str, tuple[Path, str]]) -> dict[str, Path]:
    """Build every ``name -> (source folder, wheel name prefix)`` with one ``pip wheel`` and install each into
    ``base/site/<name>``; returns ``name -> that folder``."""
    wheels = base / "wheels"
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    pip("wheel", "--no-deps", *isolation, "-q", "-w", str(wheels), *(str(s) for s, _ in sources.values()))
    targets = {}
    for name, (_, prefix) in sources.items():
        (wheel,) = wheels.glob(f"{prefix}-*.whl")
        targets[name] = base / "site" / name
        pip("install", "--no-deps", "--no-index", "-q", "--target", str(targets[name]), str(wheel))
    return targets
