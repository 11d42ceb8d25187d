"""The edge agent against a real server: a file with a scream raises a detection; a refused key
stops the agent with a clear message and exit status 3."""

import subprocess
import sys
import time

import numpy as np
import pytest

from detection.tests.conftest import write_wav
from detection.tests.streaming.helpers import loud, quiet
from detection.tests.streaming.live import live_server
from outcry import agent
from outcry.tests.django_subprocess import REPO_ROOT

pytestmark = pytest.mark.slow


def _agent(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "outcry.agent", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_agent_streams_a_scream_file_and_a_wrong_key_is_refused(tmp_path, tiny_model):
    scream_file = write_wav(tmp_path / "scream.wav", np.concatenate([quiet(3.0), loud(2.0), quiet(2.5)]))
    with live_server(tmp_path, model_path=tiny_model) as server:
        started = time.monotonic()
        streamed = _agent("--server", server.ws, "--key", server.key, "--file", str(scream_file))
        assert streamed.returncode == 0, streamed.stdout + streamed.stderr
        assert time.monotonic() - started >= 7.0  # real-time pace
        assert "streaming as sensor 'Live mic'" in streamed.stdout
        assert "scream" in streamed.stdout  # the status lines

        deadline = time.monotonic() + 20
        while True:
            found = server.query(
                "from detection.models import Detection\n"
                "result = [[d.recording.source, d.start_s, d.peak_score, d.recording.status]"
                " for d in Detection.objects.select_related('recording')]"
            )
            if (found and found[0][3] == "done") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert len(found) == 1
        source, start_s, peak_score, status = found[0]
        assert source == "stream" and status == "done" and peak_score > 0.9
        assert start_s == pytest.approx(3.0)  # 3 s of pre-roll before the first loud window (2.5 s)
        incidents = server.query("from alerts.models import Incident\nresult = Incident.objects.count()")
        assert incidents == 1

        refused = _agent("--server", server.ws, "--key", "osk_wrong_key", "--file", str(scream_file))
        assert refused.returncode == agent.EXIT_KEY_REFUSED
        assert agent.KEY_REFUSED_MESSAGE in refused.stderr


def test_the_agent_tells_why_daphne_closed_the_stream_and_keeps_retrying(tmp_path, tiny_model):
    """daphne sends a close without its reason; the error message before it carries the reason."""
    scream_file = write_wav(tmp_path / "scream.wav", np.concatenate([quiet(3.0), loud(2.0)]))
    with live_server(tmp_path, model_path=tiny_model) as server:
        server.query(
            f"from sites.models import Site\nresult = Site.objects.filter(pk={server.site_id}).update(status='paused')"
        )
        with pytest.raises(subprocess.TimeoutExpired) as still_retrying:
            _agent("--server", server.ws, "--key", server.key, "--file", str(scream_file), timeout=4)

    output = still_retrying.value.stdout.decode() if still_retrying.value.stdout else ""
    assert "connection closed (4403: the site " in output and "is paused; it takes no audio" in output, output
    assert "reconnecting in" in output
