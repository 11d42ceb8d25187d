"""Fixtures of the browser tests."""

import pytest

from frontend import e2e


@pytest.fixture
def playwright():
    """Playwright, with Debian's Chromium present (skipped, saying why, without either)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not e2e.CHROMIUM.exists():
        pytest.skip("needs Chromium at /usr/bin/chromium (apt-get install -y chromium)")
    with playwright_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def browser(playwright):
    """Headless Chromium with the usual flags."""
    browser = playwright.chromium.launch(executable_path=str(e2e.CHROMIUM), args=e2e.CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def server(tmp_path):
    """Outcry in embedded mode in its own daphne process (test data folder), for a test's browsers."""
    with e2e.embedded_server(tmp_path / "var", tmp_path) as server:
        yield server
