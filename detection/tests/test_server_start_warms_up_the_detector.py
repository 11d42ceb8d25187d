"""A server process loads the model as it starts, not when its first upload or stream arrives.

In embedded mode the server analyses uploads in its task threads, and in every mode it scores live
streams, so a cold engine made the first alert after a restart seconds late (13 s measured on a
fresh machine, 1.4 s with warm disk caches).
"""

import logging

import pytest

from detection import engine
from outcry import signals
from outcry.tests.django_subprocess import clean_environment, run_python


class CountingEngine:
    def __init__(self):
        self.windows = []

    def analyze(self, samples):
        self.windows.append(len(samples))


def test_server_started_signal_runs_one_window_through_the_engine(monkeypatch):
    counting = CountingEngine()
    monkeypatch.setattr(engine, "get_engine", lambda: counting)

    signals.server_started.send(sender=None)

    assert counting.windows == [16000]


def test_a_failing_warm_up_is_logged_and_the_others_still_run(monkeypatch, caplog):
    counting = CountingEngine()
    monkeypatch.setattr(engine, "get_engine", lambda: counting)

    def broken(**_kwargs):
        raise RuntimeError("cache directory is read-only")

    signals.server_started.connect(broken, dispatch_uid="test.broken")
    try:
        with caplog.at_level(logging.ERROR):
            signals.announce_server_started()
    finally:
        signals.server_started.disconnect(dispatch_uid="test.broken")

    assert counting.windows == [16000]
    assert "cache directory is read-only" in caplog.text  # Django logs the receiver's error
    assert "warm-up failed at server start (1 of its receivers)" in caplog.text


# The embedded beat would run periodic tasks against the checkout's own database.
NO_BEAT = {"OUTCRY_TASK_RUNNER": "inline"}

WAIT_FOR_WARM_ENGINE = """
import threading, time
import outcry.asgi
from detection import engine
started = any(thread.name == "outcry-warm-up" for thread in threading.enumerate()) or engine._cached_engine
deadline = time.monotonic() + 90
while engine._cached_engine is None and time.monotonic() < deadline:
    time.sleep(0.05)
print("started" if started else "off", "warm" if engine._cached_engine else "cold")
"""


@pytest.mark.slow
def test_loading_the_asgi_application_warms_the_engine_in_the_background():
    result = run_python(WAIT_FOR_WARM_ENGINE, clean_environment(**NO_BEAT))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["started", "warm"]


def test_the_warm_up_can_be_turned_off():
    code = WAIT_FOR_WARM_ENGINE.replace("time.monotonic() + 90", "time.monotonic() + 1")

    result = run_python(code, clean_environment(OUTCRY_WARM_UP_AT_START="false", **NO_BEAT))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["off", "cold"]
