"""Where in the expression text a node sits, and the refusal message that points at it."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from experiments.errors import ExpressionError


@dataclass(frozen=True, slots=True)
class Span:
    """A node's place in the source: 1-based lines, 0-based *character* columns (ast counts UTF-8 bytes)."""

    line: int
    column: int
    end_line: int
    end_column: int


def _char_column(line_text: str, byte_offset: int) -> int:
    return len(line_text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def span_of(node: ast.AST, source: str) -> Span:
    """The character span of an ast node within ``source``."""
    lines = source.splitlines() or [""]
    line = getattr(node, "lineno", 1)
    end_line = getattr(node, "end_lineno", None) or line
    text = lines[min(line, len(lines)) - 1]
    end_text = lines[min(end_line, len(lines)) - 1]
    column = _char_column(text, getattr(node, "col_offset", 0))
    end_offset = getattr(node, "end_col_offset", None)
    end_column = _char_column(end_text, end_offset) if end_offset is not None else column + 1
    return Span(line, column, end_line, end_column)


def refusal(source: str, problem: str, span: Span | None, allowed: str) -> ExpressionError:
    """An :class:`ExpressionError` showing ``source`` with a caret line under ``span``.

    ``problem`` is one sentence saying what is wrong; ``allowed`` says what the language accepts instead.
    """
    lines = source.splitlines() or [""]
    if span is None:
        shown = "\n".join(f"    {line}" for line in lines[:5])
        return ExpressionError(f"Expression refused: {problem}\n{shown}\n{allowed}", None, 1)
    text = lines[min(span.line, len(lines)) - 1]
    width = span.end_column - span.column if span.end_line == span.line else len(text) - span.column
    where = f" (line {span.line})" if len(lines) > 1 else ""
    caret = " " * (4 + span.column) + "^" * max(1, width)
    return ExpressionError(
        f"Expression refused{where}: {problem}\n    {text}\n{caret}\n{allowed}", span.column, span.line
    )
