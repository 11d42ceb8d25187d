"""End to end, as people use it: a real daphne (embedded mode), the microphone page open as the
site's manager in headless Chromium whose fake microphone plays a real scream from the dev corpus,
and the operators' console open in a second browser context: the console must show the incident.
That needs the shipped model (a random one would not recognise the scream); the same path is also
driven with the tiny test model, whose "scream" is a loud noise burst, so that the page, the
worklet and the stream are checked before a model exists. Screenshots stay in tmp_path.
"""

from pathlib import Path

import numpy as np
import pytest

from detection.tests.conftest import build_tiny_model, write_wav
from detection.tests.streaming.live import LiveServer, live_server
from frontend import e2e

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The fake microphone plays a file; autoplay lets the page start audio without a click.
MICROPHONE_ARGS = [
    *e2e.CHROMIUM_ARGS,
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
PASSWORD = "correct-horse-battery"
ALERT_TIMEOUT_MS = 60_000


def sign_in(page, server: LiveServer, username: str, next_path: str) -> None:
    e2e.sign_in(page, server.http, username, PASSWORD, next_path)


def microphone_scream_reaches_console(playwright, server: LiveServer, wav: Path, shots: Path) -> None:
    """The scenario, shared with ad-hoc runs against other models."""
    browser = playwright.chromium.launch(
        executable_path=str(e2e.CHROMIUM), args=[*MICROPHONE_ARGS, f"--use-file-for-fake-audio-capture={wav}"]
    )
    try:
        console = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        sign_in(console, server, "operator", "/")
        console.wait_for_selector("#conn[data-state=live]", timeout=20_000)

        microphone = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
        sign_in(microphone, server, "manager", "/microphone/")
        microphone.select_option("#mic-sensor", str(server.sensor_id))
        microphone.click("#mic-start")
        microphone.wait_for_selector("#mic-state[data-state=live]", timeout=20_000)
        microphone.wait_for_function(
            "document.getElementById('mic-detail').textContent.includes('windows scored')", timeout=20_000
        )
        level = float(microphone.get_attribute("#mic-meter", "aria-valuenow"))
        assert level > -60, f"the fake microphone is silent ({level} dBFS)"
        microphone.screenshot(path=shots / "1-microphone-live.png")

        card = console.locator(".incident-card").first
        card.wait_for(timeout=ALERT_TIMEOUT_MS)
        console.screenshot(path=shots / "2-console-alert.png")
        assert "Live mic" in card.inner_text()
        microphone.wait_for_selector(".mic-alert", timeout=10_000)
        microphone.screenshot(path=shots / "3-microphone-alert.png")
        microphone.click("#mic-stop")
        microphone.wait_for_selector("#mic-state[data-state=idle]")
    finally:
        browser.close()


@pytest.fixture
def scream_wav(tmp_path) -> Path:
    missing = e2e.shipped_model_missing()
    if missing:
        pytest.skip(f"needs the shipped model to recognise a real scream: {missing}")
    screams, backgrounds = e2e.dev_screams(), e2e.dev_backgrounds()
    if not screams:
        pytest.skip(f"no dev screams under {e2e.DEV_DATASET}")
    from detection.engine import get_engine

    # The browser path is under test, not the model: of a few real screams, play the one the model
    # recognises best when it is uploaded as a file.
    named = [path for path in screams if "scream" in path.name.lower()] or screams
    background = backgrounds[0] if backgrounds else None
    clips = [e2e.scream_clip(scream, background, duration_s=8.0, snr_db=20.0) for scream in named[:8]]
    clip = max(clips, key=lambda candidate: get_engine().analyze_file(candidate).max_score)
    path = tmp_path / "fake-microphone.wav"
    path.write_bytes(clip)
    return path


def test_a_scream_at_the_browser_microphone_alerts_the_console(scream_wav, playwright, tmp_path):
    from django.conf import settings

    with live_server(tmp_path, model_path=Path(settings.DETECTION_MODEL_PATH)) as server:
        microphone_scream_reaches_console(playwright, server, scream_wav, tmp_path)


def test_the_microphone_page_streams_a_noise_burst_to_the_test_model(playwright, tmp_path):
    tiny_model = build_tiny_model(tmp_path / "tiny.onnx")
    rng = np.random.default_rng(0)
    room, burst = rng.standard_normal(3 * 16000) * 0.003, rng.standard_normal(3 * 16000) * 10 ** (-15 / 20)
    wav = write_wav(tmp_path / "fake-microphone.wav", np.concatenate([room, burst]).astype(np.float32))
    with live_server(tmp_path, model_path=tiny_model) as server:
        microphone_scream_reaches_console(playwright, server, wav, tmp_path)


def test_a_microphone_page_replaced_by_another_says_why_daphne_closed_it(playwright, tmp_path):
    """daphne drops the close's reason: the page takes it from the error message sent before."""
    tiny_model = build_tiny_model(tmp_path / "tiny.onnx")
    wav = write_wav(tmp_path / "fake-microphone.wav", np.zeros(3 * 16000, dtype=np.float32))
    with live_server(tmp_path, model_path=tiny_model) as server:
        browser = playwright.chromium.launch(
            executable_path=str(e2e.CHROMIUM), args=[*MICROPHONE_ARGS, f"--use-file-for-fake-audio-capture={wav}"]
        )
        try:
            first, second = (browser.new_context().new_page() for _ in range(2))
            for page in (first, second):
                sign_in(page, server, "manager", "/microphone/")
                page.select_option("#mic-sensor", str(server.sensor_id))
                page.click("#mic-start")
                page.wait_for_selector("#mic-state[data-state=live]", timeout=20_000)

            first.wait_for_selector("#mic-state[data-state=error]", timeout=10_000)
            assert first.inner_text("#mic-state") == (
                "Another connection took over this sensor (another tab or device is streaming as it)."
                " (replaced by a new connection)"
            )
            assert second.get_attribute("#mic-state", "data-state") == "live"
        finally:
            browser.close()
