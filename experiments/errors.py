"""Errors the runner reports as one clean paragraph, without a traceback."""


class UserError(Exception):
    """Something the user can fix (the config, the tracking server, ...): ``run.py`` prints the message alone and
    exits non-zero (``exit_code``), with no traceback and no run left RUNNING."""

    exit_code = 2


def exit_with(error: UserError):
    """Print ``error`` as the command's one paragraph (no traceback) and exit with its code."""
    import sys

    from .credentials import redact

    print(f"Error: {redact(error)}", file=sys.stderr, flush=True)
    sys.exit(error.exit_code)


class ConfigError(UserError, ValueError):
    """A user's configuration is wrong: the message says what was wrong, where, and what is allowed.

    Raised before any run starts (unknown objective, bad ``init`` value, malformed expression, ...). The runner
    catches it, prints the message alone and exits non-zero; a ``ValueError`` so callers validating values
    can catch it the usual way.
    """


class TrackingUnavailable(UserError):
    """The tracking store cannot be reached when a run starts (and ``tracking.spool`` is off): nothing was run."""

    exit_code = 3


class RunNotStored(UserError):
    """A run ended while the tracking store was still away: its records wait in the spool (the message says
    where and how to upload them)."""

    exit_code = 3


class StoreError(UserError):
    """The tracking store is there but cannot be used now: locked by another process for longer than
    ``tracking.lock_timeout``, left half-migrated with runs in it, or failing in a way that is not the user's
    input. Nothing was run."""

    exit_code = 3


class DiskFull(UserError):
    """A disk the run writes to (the store's, the spool's, the scratch folder's) is full or over quota: the run
    stopped there, ended FAILED where the store could still take it, and the message says what was kept."""

    exit_code = 4


class ExpressionError(ConfigError):
    """An objective expression was refused: malformed, too long or deep, or outside the whitelisted grammar.

    The message shows the expression with a caret line under the offending part and says what is allowed.
    ``column`` is the 0-based character offset of that part in its line (``None`` when the whole expression is
    at fault), ``line`` its 1-based line number.
    """

    def __init__(self, message: str, column: int | None = None, line: int = 1) -> None:
        super().__init__(message)
        self.column = column
        self.line = line
