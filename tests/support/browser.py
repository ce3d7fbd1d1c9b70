"""Pages in a real headless Chromium (Debian's ``chromium``, driven by Playwright), with the network off.

``with open_page(path_or_url) as page: ...`` loads a page, waits for its scripts, and fails the test when the
console printed an error or a script threw. ``CHROMIUM`` is the browser's path (``$CHROMIUM`` or
``/usr/bin/chromium``); tests that need it skip with a clear reason only when it is absent outside CI
(``.ci/run`` installs it, so CI never skips).
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium package")
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")


@contextmanager
def browser(offline: bool = True, viewport=(1400, 900)):
    """A Playwright browser context in headless Chromium; ``offline`` cuts every network request."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = chromium.new_context(offline=offline, viewport={"width": viewport[0], "height": viewport[1]})
            yield context
        finally:
            chromium.close()


class PageErrors(list):
    """Console errors and uncaught exceptions of one page, as text."""

    def watch(self, page) -> "PageErrors":
        page.on("console", lambda message: self.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.append(f"uncaught: {error}"))
        return self


@contextmanager
def open_page(target: str | Path, offline: bool = True, viewport=(1400, 900)):
    """Load a file (a path) or a URL; yield the page; on leaving, assert that the console held no error."""
    url = Path(target).resolve().as_uri() if isinstance(target, Path) else target
    with browser(offline=offline, viewport=viewport) as context:
        page = context.new_page()
        errors = PageErrors().watch(page)
        page.goto(url, wait_until="load")
        yield page
        assert not errors, f"{url} printed errors: {errors}"
