"""Errors the runner reports as one clean paragraph, without a traceback."""


class ConfigError(ValueError):
    """A user's configuration is wrong: the message says what was wrong, where, and what is allowed.

    Raised before any run starts (unknown objective, bad ``init`` value, malformed expression, ...). The runner
    catches it, prints the message alone and exits non-zero; a ``ValueError`` so callers validating values
    can catch it the usual way.
    """


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
