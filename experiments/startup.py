"""The garbage collector around ``python run.py``'s start-up and exit.

Loading the runner's libraries (MLflow with pandas and pyarrow, SQLAlchemy and Alembic, Hydra, matplotlib) makes
about a million objects that live as long as the process. Python's cyclic collector, triggered by allocations,
walks every live object again and again while they are being made, and once more while the interpreter shuts
down: measured, about half of ``python run.py steps=1`` (1.5 s of 3 s on the project's machine). None of that walk
frees anything: an import makes definitions, not garbage.

So the command holds the collector off while it starts (:func:`hold`), and just before the first step moves
everything start-up made into the collector's permanent generation and turns it back on (:func:`release`): the
loop's own garbage is collected as always, without walking the libraries each time. At exit the same is done
again, after every other exit handler, so the interpreter's final collections skip what lived until the end.
Reference counting frees objects exactly as before; only cyclic garbage made during start-up (a few cycles of
import machinery) is kept rather than freed.

``run(cfg)`` called as a library (tests, notebooks, benchmarks) leaves the caller's collector alone: only the
command line calls :func:`hold`.
"""

from __future__ import annotations

import atexit
import gc

_held = False


def hold() -> None:
    """Stop cyclic collection until :func:`release`; freeze what is left at exit (registered first, so it runs
    after every exit handler registered later)."""
    global _held
    atexit.register(gc.freeze)
    if gc.isenabled():
        gc.disable()
        _held = True


def release() -> None:
    """Set aside everything made so far and collect again (a no-op unless :func:`hold` stopped collection)."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def held() -> bool:
    return _held
