"""In headless Chromium, the console with the keyboard and for each kind of user: Enter on a focused
button activates that button (it is no shortcut there), Tab onto a card selects it, a viewer
pressing an action key is told why nothing happens, and someone without a site is not told "All
quiet"."""

import pytest

from frontend import e2e
from outcry.tests.django_subprocess import run_manage

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def raise_incident(server, operator: dict, sensor: str) -> None:
    admin = e2e.ApiClient(server.base_url, e2e.seed_admin_token(server))
    slug = admin.get(f"/api/v1/sites/{operator['site']}/")["slug"]
    raised = run_manage("demo_incident", "--site", slug, "--sensor", sensor, "--score", "0.95", env=server.env)
    assert raised.returncode == 0, raised.stderr[-2000:]


def open_console(server, browser, operator: dict):
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    e2e.sign_in_to_console(page, server.base_url, operator["username"], operator["password"])
    return page


def test_enter_on_a_focused_button_activates_it_and_tab_selects_the_card(server, browser):
    operator = e2e.seed_operator(server, sensors=2)
    raise_incident(server, operator, "Mic 001")
    raise_incident(server, operator, "Mic 002")
    page = open_console(server, browser, operator)
    cards = page.locator(".incident-card")
    cards.nth(1).wait_for(timeout=20_000)
    second_id = cards.nth(1).get_attribute("data-id")

    cards.nth(1).focus()
    assert "selected" in (cards.nth(1).get_attribute("class") or "")
    cards.nth(1).locator("button[data-act=acknowledge]").focus()
    page.keyboard.press("Enter")

    page.wait_for_selector(
        f".incident-card[data-id='{second_id}'] .status-chip:has-text('Acknowledged')", timeout=15_000
    )
    assert page.url.rstrip("/") == server.base_url  # Enter did not open an incident page
    assert "Acknowledged" not in cards.nth(0).inner_text()


def test_a_viewer_pressing_an_action_key_is_told_why_nothing_happens(server, browser):
    operator = e2e.seed_operator(server)
    raise_incident(server, operator, "Mic 001")
    admin = e2e.ApiClient(server.base_url, e2e.seed_admin_token(server))
    (membership,) = admin.get(f"/api/v1/memberships/?site={operator['site']}")["results"]
    admin.patch(f"/api/v1/memberships/{membership['id']}/", {"role": "viewer"})
    page = open_console(server, browser, operator)
    page.locator(".incident-card").first.wait_for(timeout=20_000)

    page.keyboard.press("a")

    toast = page.locator(".toast", has_text="Only operators and managers of")
    toast.wait_for(timeout=5_000)
    assert "can acknowledge incidents" in toast.inner_text()
    assert "New" in page.locator(".incident-card").first.inner_text()


def test_someone_without_a_site_is_not_told_all_is_quiet(server, browser):
    operator = e2e.seed_operator(server)
    admin = e2e.ApiClient(server.base_url, e2e.seed_admin_token(server))
    (membership,) = admin.get(f"/api/v1/memberships/?site={operator['site']}")["results"]
    admin.delete(f"/api/v1/memberships/{membership['id']}/")
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    e2e.sign_in(page, server.base_url, operator["username"], operator["password"])

    page.wait_for_selector("#feed-empty:not([hidden])", timeout=20_000)

    assert page.locator("#feed-empty-no-sites").is_visible()
    assert not page.locator("#feed-empty-quiet").is_visible()
    assert "not a member of any site" in page.locator("#feed-empty").inner_text()
