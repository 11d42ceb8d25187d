"""Fixtures of the live-stream tests.

``stream_world``: a site with a streaming sensor (its key is known), a manager and an operator;
the tiny ONNX model (``tiny_model``: loud noise scores near 1, near-silence near 0) serves through
``DETECTION_MODEL_PATH``; ``slow_engine`` makes scoring lag behind.
"""

from types import SimpleNamespace

import pytest
from channels.layers import channel_layers

from detection import engine as detection_engine
from detection.streaming.consumer import SensorStreamConsumer
from detection.tests.streaming.helpers import SlowEngine
from sites.models import Role
from sites.services import sensor_create


@pytest.fixture
def stream_settings(settings, tiny_model):
    """The tiny model, tasks run inline after commit, a fresh in-memory channel layer, fast ticks."""
    settings.DETECTION_MODEL_PATH = str(tiny_model)
    settings.DETECTION_THRESHOLD = 0.0
    settings.OUTCRY_TASK_RUNNER = "inline"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield settings
    channel_layers.backends.clear()


@pytest.fixture
def fast_ticks(monkeypatch):
    monkeypatch.setattr(SensorStreamConsumer, "status_interval_s", 0.1)
    monkeypatch.setattr(SensorStreamConsumer, "hello_timeout_s", 0.5)


@pytest.fixture
def stream_world(db, make_site, make_member, make_user, stream_settings, fast_ticks):
    site = make_site("Gym site")
    sensor, key = sensor_create(site=site, name="Gym north")
    return SimpleNamespace(
        site=site,
        sensor=sensor,
        key=key,
        manager=make_member(site, Role.MANAGER),
        operator=make_member(site, Role.OPERATOR),
    )


@pytest.fixture
def slow_engine(monkeypatch, stream_settings):
    def make(delay_s: float) -> SlowEngine:
        slow = SlowEngine(detection_engine.get_engine(), delay_s)
        monkeypatch.setattr(detection_engine, "get_engine", lambda: slow)
        return slow

    return make
