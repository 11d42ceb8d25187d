"""In headless Chromium: History with a From date after its To date says why nothing matches."""

import pytest

from frontend import e2e

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_from_date_after_the_to_date_is_explained(server, browser):
    operator = e2e.seed_operator(server)
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    e2e.sign_in(page, server.base_url, operator["username"], operator["password"], next_path="/history/")

    page.goto(f"{server.base_url}/history/?from=2026-11-20&to=2026-11-01")

    banner = page.locator("#history-error")
    banner.wait_for(state="visible", timeout=15_000)
    assert "From date is after the To date" in banner.inner_text()
    page.goto(f"{server.base_url}/history/?from=2026-11-01&to=2026-11-20")
    page.locator("#history-rows[aria-busy=false]").wait_for(timeout=15_000)
    assert page.locator("#history-error").is_hidden()
