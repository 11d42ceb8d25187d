"""In headless Chromium: a change whose value is very long wraps inside the Changes table, so
the whole "field: old → new" stays in view instead of running past the table's right edge."""

import pytest

from frontend import e2e

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_long_changed_value_wraps_within_the_table(server, browser, tmp_path):
    operator = e2e.seed_operator(server)
    e2e.promote_to_manager(server, operator)
    manager = e2e.ApiClient(server.base_url, operator["token"])
    long_location = "X" * 150
    manager.patch(f"/api/v1/sensors/{operator['sensors'][0]}/", {"location": long_location})

    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    e2e.sign_in(page, server.base_url, operator["username"], operator["password"], next_path="/changes/")
    row = page.locator("#changes-rows tr", has_text=long_location)
    row.wait_for(timeout=20_000)
    page.screenshot(path=tmp_path / "changes-long-value.png", full_page=True)

    item = row.locator(".change-list li", has_text="location")
    assert f"→ {long_location}" in item.inner_text()
    wrapper = page.locator(".table-wrap").bounding_box()
    for box in (row.bounding_box(), item.bounding_box()):
        assert box["x"] + box["width"] <= wrapper["x"] + wrapper["width"] + 0.5
    table_wrap_scrolls = page.locator(".table-wrap").evaluate("wrap => wrap.scrollWidth > wrap.clientWidth")
    assert not table_wrap_scrolls
