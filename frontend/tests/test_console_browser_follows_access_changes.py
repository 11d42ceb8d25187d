"""In headless Chromium: an operator removed from their site while the console is open stops seeing
its incidents at once, without reloading the page (the socket closes with 4409, the page reconnects
and reloads what it shows under the new access); one demoted to viewer stops being shown the keys
of actions they may no longer take."""

import pytest

from frontend import e2e
from outcry.tests.django_subprocess import run_manage

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_operator_removed_from_the_site_loses_its_incidents_live(server, browser, tmp_path):
    operator = e2e.seed_operator(server)
    admin = e2e.ApiClient(server.base_url, e2e.seed_admin_token(server))
    slug = admin.get(f"/api/v1/sites/{operator['site']}/")["slug"]
    raised = run_manage("demo_incident", "--site", slug, "--score", "0.95", env=server.env)
    assert raised.returncode == 0, raised.stderr[-2000:]
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    e2e.sign_in_to_console(page, server.base_url, operator["username"], operator["password"])
    page.locator(".incident-card").first.wait_for(timeout=20_000)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.screenshot(path=tmp_path / "1-member.png")

    memberships = admin.get(f"/api/v1/memberships/?site={operator['site']}")["results"]
    (membership,) = [m for m in memberships if m["username"] == operator["username"]]
    admin.delete(f"/api/v1/memberships/{membership['id']}/")

    page.wait_for_selector("#feed-empty:not([hidden])", timeout=15_000)
    page.wait_for_selector("#conn[data-state=live]", timeout=15_000)
    page.screenshot(path=tmp_path / "2-removed.png")
    assert page.locator(".incident-card").count() == 0
    assert page.evaluate("window.__sameDocument") is True
    assert "No sensors on your sites." in page.locator("#sensors").inner_text()


def test_operator_added_to_another_site_sees_its_sensors_under_its_name_live(server, browser, tmp_path):
    operator = e2e.seed_operator(server)
    admin = e2e.ApiClient(server.base_url, e2e.seed_admin_token(server))
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    e2e.sign_in_to_console(page, server.base_url, operator["username"], operator["password"])
    page.wait_for_selector("#sensors .sensor")
    page.evaluate("window.__sameDocument = true")

    harbour = admin.post("/api/v1/sites/", {"name": "Harbour depot", "slug": "harbour-depot"})
    admin.post("/api/v1/sensors/", {"site": harbour["id"], "name": "Quay mic"})
    user_id = admin.get(f"/api/v1/memberships/?site={operator['site']}")["results"][0]["user"]
    admin.post("/api/v1/memberships/", {"user": user_id, "site": harbour["id"], "role": "viewer"})

    page.wait_for_selector("#sensors h3:has-text('Harbour depot')", timeout=15_000)
    page.screenshot(path=tmp_path / "added.png")
    assert "Quay mic" in page.locator("#sensors").inner_text()
    assert page.evaluate("window.__sameDocument") is True


def test_operator_demoted_to_viewer_no_longer_sees_the_action_keys_hint(server, browser):
    operator = e2e.seed_operator(server)
    admin = e2e.ApiClient(server.base_url, e2e.seed_admin_token(server))
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    e2e.sign_in_to_console(page, server.base_url, operator["username"], operator["password"])
    hint = page.locator("#action-shortcuts")
    hint.wait_for(state="visible", timeout=15_000)
    assert "acknowledge" in hint.inner_text()

    (membership,) = admin.get(f"/api/v1/memberships/?site={operator['site']}")["results"]
    admin.patch(f"/api/v1/memberships/{membership['id']}/", {"role": "viewer"})

    hint.wait_for(state="hidden", timeout=15_000)
    assert "all shortcuts" in hint.locator("..").inner_text()  # the rest of the hint stays
