"""Fixtures for the upload, analysis and recording API tests."""

from types import SimpleNamespace

import pytest

from detection import engine as detection_engine
from detection.engine import ScreamEvent
from detection.tests.uploads.support import FakeEngine
from sites.models import Role


@pytest.fixture
def fake_engine(monkeypatch) -> FakeEngine:
    engine = FakeEngine(events=[ScreamEvent(start_s=2.0, end_s=3.5, peak_score=0.97, mean_score=0.9)])
    monkeypatch.setattr(detection_engine, "get_engine", lambda: engine)
    return engine


@pytest.fixture
def inline_tasks(settings):
    settings.OUTCRY_TASK_RUNNER = "inline"


@pytest.fixture
def upload_world(make_site, make_sensor, make_member, make_user):
    """Two active sites with a sensor each; people with each role at ``own`` only."""
    own, other = make_site("Own site"), make_site("Other site")
    return SimpleNamespace(
        own=own,
        other=other,
        sensor=make_sensor(own, "Gym mic"),
        other_sensor=make_sensor(other, "Lobby mic"),
        viewer=make_member(own, Role.VIEWER),
        operator=make_member(own, Role.OPERATOR),
        manager=make_member(own, Role.MANAGER),
        outsider=make_user(),
        other_operator=make_member(other, Role.OPERATOR),
    )


@pytest.fixture
def queued_recording(upload_world):
    """A stored, queued recording of 6 s of tone (its analysis not dispatched: the test transaction never commits)."""
    from detection.services import recording_create
    from detection.tests.uploads.support import audio_upload, tone_wav

    return recording_create(
        file=audio_upload(tone_wav(6.0)), sensor=upload_world.sensor, uploaded_by=upload_world.operator
    )


@pytest.fixture
def stored_signals():
    """Every ``detections_stored`` sent while the test runs: [(recording, [detections])]."""
    from detection.signals import detections_stored

    sent = []

    def receiver(sender, recording, detections, **kwargs):
        sent.append((recording, list(detections)))

    detections_stored.connect(receiver, weak=False, dispatch_uid="detection-tests-stored-signals")
    yield sent
    detections_stored.disconnect(dispatch_uid="detection-tests-stored-signals")
