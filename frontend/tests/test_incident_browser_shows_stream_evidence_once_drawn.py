"""An operator who opens a live stream's incident at once sees its evidence complete itself.

A stream's incident is raised while the scream is still going on: its first clip is stored, and the
spectrogram is drawn (and the clip replaced by the whole scream) once the scream has ended and the
post-roll has arrived. Nothing about the incident changes then, so the page used to say "The
spectrogram is being drawn…" until it was reloaded, and the browser could replay the first clip
from its cache for five minutes. Real daphne (embedded mode), real Chromium, the real stream
services run in the server's database by a child process.
"""

import json

import pytest

from frontend import e2e
from outcry.tests.django_subprocess import run_python

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_OPEN = """
import json, django
django.setup()
from datetime import timedelta
import numpy as np
from django.utils import timezone
from alerts.models import Incident
from detection.streaming.services import stream_segment_open
rng = np.random.default_rng(7)
samples = (0.3 * rng.standard_normal(16000 * 4)).astype(np.float32)
recording_id, detection_id = stream_segment_open(
    sensor_id={sensor_id}, samples=samples, recorded_at=timezone.now() - timedelta(seconds=4), onset_s=3.0,
    end_s=4.0, peak_score=0.97, mean_score=0.9, model_version="test-model", source_sample_rate=16000,
)
incident = Incident.objects.get(detections__pk=detection_id)
print(json.dumps({{"recording": recording_id, "detection": detection_id, "incident": incident.pk}}))
"""

_CLOSE = """
import django
django.setup()
import numpy as np
from detection.streaming.services import stream_segment_close
rng = np.random.default_rng(8)
samples = (0.3 * rng.standard_normal(16000 * 8)).astype(np.float32)
stream_segment_close(
    recording_id={recording}, detection_id={detection}, samples=samples, end_s=6.0, peak_score=0.98, mean_score=0.9
)
"""


def _run(code: str, server: e2e.Server) -> str:
    # Inline tasks: the child announces and draws before it exits, as the server's workers would.
    result = run_python(code, env=server.env | {"OUTCRY_TASK_RUNNER": "inline"}, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


@pytest.fixture
def server(tmp_path):
    with e2e.embedded_server(tmp_path / "var", tmp_path) as server:
        yield server


def test_the_whole_screams_clip_and_spectrogram_replace_the_first_ones_without_a_reload(server, browser, tmp_path):
    operator = e2e.seed_operator(server)
    opened = json.loads(_run(_OPEN.format(sensor_id=operator["sensors"][0]), server))
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    e2e.sign_in(page, server.base_url, operator["username"], operator["password"], f"/incidents/{opened['incident']}/")
    caption = page.locator("#evidence .evidence-caption")
    caption.get_by_text("Still being completed").wait_for(timeout=20_000)
    first = _evidence_urls(page)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.screenshot(path=tmp_path / "1-evidence-incomplete.png")

    _run(_CLOSE.format(**opened), server)

    page.wait_for_function(
        "() => !document.querySelector('#evidence .evidence-caption').textContent.includes('Still being completed')"
        " && document.querySelector('#evidence img.spectrogram')",
        timeout=30_000,
    )
    page.screenshot(path=tmp_path / "2-evidence-complete.png")
    assert page.evaluate("window.__sameDocument") is True
    whole = _evidence_urls(page)
    # New URLs: neither the page nor the browser's cache can show the first part as the whole.
    assert whole["clip"] != first["clip"] and whole["spectrogram"] != first["spectrogram"]
    assert _content_type(page, whole["clip"]).startswith("audio/")
    assert _content_type(page, whole["spectrogram"]) == "image/png"
    # The whole scream peaked at 0.98, over the onset's 0.97: the incident follows it.
    page.locator("#timeline").get_by_text("The scream went on: its peak reached 0.98.").wait_for(timeout=10_000)
    assert "98%" in page.locator("#facts").inner_text()


def _evidence_urls(page) -> dict:
    return {
        "clip": page.locator("#evidence audio").get_attribute("src"),
        "spectrogram": page.locator("#evidence img.spectrogram").get_attribute("src"),
    }


def _content_type(page, url: str) -> str:
    return page.evaluate("async (url) => (await fetch(url)).headers.get('content-type')", url)
