"""The documentation's text, for the tests that run its examples: a page (README.md or docs/<page>.md), a section
of it by its heading, and its code blocks."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^\s*```")
_HEADING = re.compile(r"^(#+) +(.*?)\s*$")


def page(name: str) -> str:
    """The text of ``name``, relative to the repository's root (``README.md``, ``docs/runner.md``)."""
    return (ROOT / name).read_text()


def headings(text: str) -> list[tuple[int, str]]:
    """(level, title) of every Markdown heading of ``text``, code blocks skipped."""
    found, in_code = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
        elif not in_code and (m := _HEADING.match(line)):
            found.append((len(m.group(1)), m.group(2)))
    return found


def section(name: str, title: str) -> str:
    """The section of page ``name`` under the heading ``title``, up to the next heading of the same or a higher
    level (its subsections included)."""
    lines, out, level, in_code = page(name).splitlines(keepends=True), [], None, False
    for line in lines:
        if _FENCE.match(line):
            in_code = not in_code
        m = None if in_code else _HEADING.match(line)
        if level is None:
            if m and m.group(2) == title:
                level = len(m.group(1))
            continue
        if m and len(m.group(1)) <= level:
            break
        out.append(line)
    if level is None:
        raise LookupError(f"{name} has no section {title!r}")
    return "".join(out)


def code_blocks(text: str, language: str) -> list[str]:
    """The bodies of the code blocks of ``text`` fenced as ``language`` at the start of a line (not indented)."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)
