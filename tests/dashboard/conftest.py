"""Headless Debian Chromium driven by Playwright, for the dashboard's browser tests.

Playwright's own browser download cannot work here (and is never run): the tests drive the system browser at
:data:`CHROMIUM` (``apt-get install chromium``; ``.ci/run`` installs it). Where there is none the tests skip,
saying so. ``--no-sandbox`` because CI runs as root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("DEVHOST_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 15_000
"""How long an expectation polls the page (real time: the page refreshes itself every 2 s)."""


def skip_reason() -> str | None:
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set DEVHOST_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One browser for a test module (each test opens its own context: fresh cookies, storage, pages)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()
