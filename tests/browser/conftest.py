"""Playwright (sync API) with Debian's Chromium against pytest-django's live server.

The tests here are marked ``browser`` and skip with the reason when Playwright or
Chromium is missing. Browser downloads are never needed: Playwright drives the
system Chromium (``/usr/bin/chromium``, or ``STOCKROOM_CHROMIUM``).
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("STOCKROOM_CHROMIUM", "/usr/bin/chromium")


def _chromium_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium, or set STOCKROOM_CHROMIUM)"
    return None


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module. Module scope, so Playwright's loop and the
    async-unsafe allowance below end with the browser tests instead of lasting the session."""
    reason = _chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # The sync API keeps an asyncio loop in this thread, and Django refuses ORM calls from a
    # thread with a running loop; the calls here are ordinary synchronous test code.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                yield chromium
            finally:
                chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory):
    """Where the smoke test leaves a few screenshots (printed on failure)."""
    wanted = os.environ.get("STOCKROOM_BROWSER_SCREENSHOTS")
    if wanted:
        path = Path(wanted)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("browser-screenshots")
