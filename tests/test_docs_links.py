"""Every relative link of README.md and docs/*.md points to a file or folder of the repository, and every
``#anchor`` to a heading of the page it names (GitHub's anchors: lower case, punctuation dropped, spaces as
hyphens)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from docs_text import PAGES, ROOT, headings

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchor(title: str) -> str:
    text = re.sub(r"[^\w\- ]", "", title.replace("`", "").lower())
    return text.replace(" ", "-")


def links(page: Path) -> list[str]:
    """The link targets of ``page``'s prose (code blocks skipped)."""
    found, in_code = [], False
    for line in page.read_text().splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code:
            found += _LINK.findall(line)
    return found


def relative_links():
    for page in PAGES:
        for target in links(page):
            if not re.match(r"[a-z]+:", target):
                yield pytest.param(page, target, id=f"{page.relative_to(ROOT)}:{target}")


def test_every_page_is_linked_from_the_readme():
    readme_links = {(ROOT / t.split("#")[0]).resolve() for t in links(ROOT / "README.md")}
    assert [p for p in PAGES[1:] if p.resolve() not in readme_links] == []


@pytest.mark.parametrize("page, target", list(relative_links()))
def test_relative_link_resolves(page, target):
    path, _, fragment = target.partition("#")
    destination = (page.parent / path).resolve() if path else page
    assert destination.exists(), f"{page.relative_to(ROOT)} links to {target}, which does not exist"
    assert ROOT in destination.parents or destination == ROOT, f"{target} leaves the repository"
    if fragment:
        assert destination.suffix == ".md", f"{target}: an anchor into a file that is not a page"
        anchors = {anchor(title) for _, title in headings(destination.read_text())}
        assert fragment in anchors, f"{page.relative_to(ROOT)} links to #{fragment}, not a heading of {destination.name}"


def test_anchor_follows_github():
    assert anchor("Choosing an optimizer by name: the registry") == "choosing-an-optimizer-by-name-the-registry"
    assert anchor("How to add a scheduler, or a plugin of another kind") == (
        "how-to-add-a-scheduler-or-a-plugin-of-another-kind")
    assert anchor("The engine: `autodiff`") == "the-engine-autodiff"
    assert anchor("Muon's tolerance") == "muons-tolerance"
