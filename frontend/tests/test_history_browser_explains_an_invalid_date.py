"""In headless Chromium: History opened with a date in its query string that is not a date says
which value it cannot read, instead of failing with a blank table."""

import pytest

from frontend import e2e

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BAD_QUERIES = {
    "from=2026-13-45": '"2026-13-45" is not a date (from)',
    "to=2026-02-30": '"2026-02-30" is not a date (to)',
    "from=abc&to=2026-11-20": '"abc" is not a date (from)',
}


def test_an_invalid_date_in_the_query_is_named_in_the_banner(server, browser, tmp_path):
    operator = e2e.seed_operator(server)
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page_errors = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    e2e.sign_in(page, server.base_url, operator["username"], operator["password"], next_path="/history/")

    for query, expected in BAD_QUERIES.items():
        page.goto(f"{server.base_url}/history/?{query}")
        banner = page.locator("#history-error")
        banner.wait_for(state="visible", timeout=15_000)
        page.locator("#history-rows[aria-busy=false]").wait_for(state="attached", timeout=15_000)
        assert expected in banner.inner_text(), query
    page.screenshot(path=tmp_path / "history-invalid-date.png", full_page=True)
    assert page_errors == []
