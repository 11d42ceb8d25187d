"""End to end, as an operator sees it: a real daphne (embedded mode, its own SQLite), the console
open in headless Chromium, a scream uploaded through the REST API with a token; the incident must
appear in the console without a reload, and acknowledging it there must change its status.
Screenshots of each step are left in the test's tmp dir.
"""

import os
import shutil
from pathlib import Path

import pytest

from frontend import e2e

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INCIDENT_TIMEOUT_MS = 90_000  # analysis on a busy 2-core machine, model loading included


@pytest.fixture
def scream_wav() -> bytes:
    missing = e2e.shipped_model_missing()
    if missing:
        pytest.skip(f"no incident can be raised: {missing}")
    try:
        clip, _, _ = e2e.most_detectable_clip(duration_s=8.0, candidates=6)
    except LookupError as error:
        pytest.skip(str(error))
    return clip


@pytest.fixture
def server(tmp_path):
    with e2e.embedded_server(tmp_path / "var", tmp_path, DETECTION_MODEL_PATH=_model_path()) as server:
        yield server


def _model_path() -> str:
    from django.conf import settings

    return os.fspath(settings.DETECTION_MODEL_PATH)


def test_uploaded_scream_appears_live_in_the_console_and_is_acknowledged_there(scream_wav, server, browser, tmp_path):
    operator = e2e.seed_operator(server)
    sensor_id = operator["sensors"][0]
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()

    e2e.sign_in_to_console(page, server.base_url, operator["username"], operator["password"])
    page.wait_for_selector("#feed-empty:not([hidden])")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.screenshot(path=tmp_path / "1-console-empty.png")

    recording = e2e.ApiClient(server.base_url, operator["token"]).upload(sensor_id, scream_wav)
    assert recording["status"] in {"queued", "processing", "done"}

    card = page.locator(".incident-card").first
    card.wait_for(timeout=INCIDENT_TIMEOUT_MS)
    page.screenshot(path=tmp_path / "2-incident-arrived.png")
    assert page.evaluate("window.__sameDocument") is True
    assert card.get_attribute("data-status") == "new"
    assert "Mic 001" in card.inner_text()
    assert "Waiting for" in card.locator(".waiting").inner_text()

    card.get_by_role("button", name="Acknowledge").click()

    page.wait_for_selector('.incident-card[data-status="acknowledged"]', timeout=10_000)
    card = page.locator(".incident-card").first
    assert card.locator(".status-chip").inner_text() == "Acknowledged"
    assert f"Acknowledged by {operator['username']}" in card.inner_text()
    page.screenshot(path=tmp_path / "3-acknowledged.png")
    if shots := os.environ.get("OUTCRY_SCREENSHOTS_DIR"):
        for picture in tmp_path.glob("*.png"):
            shutil.copy(picture, Path(shots) / f"browser-test-{picture.name}")
