"""In headless Chromium: a manager opens Changes and sees who lowered a sensor's threshold and
silenced it, from what to what; the filters narrow the list."""

import pytest

from frontend import e2e

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_manager_sees_who_changed_a_sensor_and_from_what_to_what(server, browser, tmp_path):
    operator = e2e.seed_operator(server)
    e2e.promote_to_manager(server, operator)
    manager = e2e.ApiClient(server.base_url, operator["token"])
    sensor_id = operator["sensors"][0]
    manager.patch(f"/api/v1/sensors/{sensor_id}/", {"threshold_override": 0.3, "enabled": False})

    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    e2e.sign_in(page, server.base_url, operator["username"], operator["password"], next_path="/changes/")
    row = page.locator("#changes-rows tr", has_text="threshold_override")
    row.wait_for(timeout=20_000)
    page.screenshot(path=tmp_path / "changes.png", full_page=True)

    text = row.inner_text()
    assert operator["username"] in text and "Changed sensor" in text and "Mic 001" in text
    assert "threshold_override: — → 0.3" in text and "enabled: true → false" in text
    page.select_option("#f-object-type", "membership")
    page.click("#filters button[type=submit]")
    page.locator("#changes-rows tr", has_text="role").first.wait_for(timeout=10_000)
    assert "threshold_override" not in page.locator("#changes-rows").inner_text()
