"""Incident changes are broadcast to the site's group only once their transaction commits."""

import pytest
from django.db import transaction

from alerts.broadcast import incident_group
from alerts.services import incident_acknowledge


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr("outcry.realtime.group_send", lambda group, message: messages.append((group, message)))
    return messages


def test_change_is_broadcast_after_commit_to_the_sites_group(
    make_sensor, make_member, make_incident, sent, django_capture_on_commit_callbacks
):
    sensor = make_sensor()
    operator = make_member(sensor.site, "operator")
    incident = make_incident(sensor)

    with django_capture_on_commit_callbacks(execute=True):
        incident_acknowledge(incident=incident, user=operator)
        assert sent == []

    ((group, message),) = sent
    assert group == incident_group(sensor.site_id) == f"site.{sensor.site_id}.incidents"
    assert message["type"] == "incident.changed"
    assert message["incident"]["id"] == incident.pk and message["incident"]["status"] == "acknowledged"
    assert "allowed_actions" not in message["incident"]
    assert message["event"]["kind"] == "acknowledged"
    assert message["event"]["actor"] == {"id": operator.pk, "username": operator.username}


def test_rolled_back_change_is_never_broadcast(
    make_sensor, make_member, make_incident, sent, django_capture_on_commit_callbacks
):
    sensor = make_sensor()
    operator = make_member(sensor.site, "operator")
    incident = make_incident(sensor)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                incident_acknowledge(incident=incident, user=operator)
                raise RuntimeError("something later in the request failed")
        except RuntimeError:
            pass

    assert callbacks == [] and sent == []
    incident.refresh_from_db()
    assert incident.status == "new"


def test_new_incident_is_broadcast(make_detection, sent, django_capture_on_commit_callbacks):
    from alerts.services import incident_raise_or_extend

    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_raise_or_extend(detection=make_detection(peak_score=0.9))

    ((group, message),) = sent
    assert group == f"site.{incident.site_id}.incidents"
    assert message["event"]["kind"] == "opened" and message["incident"]["detection_count"] == 1
