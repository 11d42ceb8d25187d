"""Fixtures for alerts: detections as detection stores them, incidents raised from them."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from outcry.tests.api_matrix import ROLES
from sites.models import Role


@pytest.fixture
def make_detection(db, make_sensor):
    """A stored Detection (and its Recording) of ``sensor`` with ``peak_score`` at ``occurred_at``."""
    from detection.models import Detection, Recording

    def make(sensor=None, *, peak_score: float = 0.9, occurred_at=None, start_s: float = 1.0, **fields):
        sensor = sensor or make_sensor()
        occurred_at = occurred_at or timezone.now()
        recording = Recording.objects.create(
            site=sensor.site,
            sensor=sensor,
            file="recordings/test.wav",
            recorded_at=occurred_at - timedelta(seconds=start_s),
            status="done",
        )
        return Detection.objects.create(
            recording=recording,
            sensor=sensor,
            site=sensor.site,
            start_s=start_s,
            end_s=start_s + 1.0,
            peak_score=peak_score,
            mean_score=peak_score - 0.05,
            model_version="test-1",
            occurred_at=occurred_at,
            **fields,
        )

    return make


@pytest.fixture
def make_incident(db, make_sensor, make_detection):
    """A new incident raised the way detections raise them (one detection, score 0.9); ``opened_at``
    back-dates it (as if raised then)."""
    from alerts.models import Incident
    from alerts.services import incident_raise_or_extend

    def make(sensor=None, *, peak_score: float = 0.9, occurred_at=None, opened_at=None):
        detection = make_detection(sensor or make_sensor(), peak_score=peak_score, occurred_at=occurred_at)
        incident = incident_raise_or_extend(detection=detection)
        assert incident is not None
        if opened_at is not None:
            Incident.objects.filter(pk=incident.pk).update(opened_at=opened_at)
            incident.refresh_from_db()
        return incident

    return make


@pytest.fixture
def inline_tasks(settings):
    """Tasks run synchronously right after commit (with django_capture_on_commit_callbacks)."""
    settings.OUTCRY_TASK_RUNNER = "inline"


@pytest.fixture
def site_world(make_site, make_sensor, make_member, make_user, make_incident):
    """Two sites; the role actors belong to ``own`` only. Each site has a sensor and a new incident."""
    own, other = make_site("Own site"), make_site("Other site")
    actors = {role: make_member(own, role) for role in (Role.VIEWER, Role.OPERATOR, Role.MANAGER)}
    actors["none"] = make_user()
    actors["admin"] = make_user(is_staff=True)
    actors["anonymous"] = None
    assert set(actors) == set(ROLES)
    sensors = {"own": make_sensor(own, "Own mic"), "other": make_sensor(other, "Other mic")}
    return SimpleNamespace(
        own=own,
        other=other,
        actors=actors,
        sensor=sensors,
        incident={name: make_incident(sensor) for name, sensor in sensors.items()},
        other_operator=make_member(other, Role.OPERATOR),
    )


@pytest.fixture(autouse=True)
def _webhook_receivers_on_this_machine(settings):
    """The tests' webhook receivers listen on 127.0.0.1, which webhooks may reach only when allowed."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
