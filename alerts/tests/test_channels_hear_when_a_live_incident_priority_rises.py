"""A live incident is announced at the scream's onset, often its weakest window, so the email or
webhook said "low". When the whole scream turns out critical, or a louder scream joins the open
incident, the channels that announced it hear so ("priority:<p>" deliveries,
`incident.priority_raised`), once per priority reached; a channel whose announcement has not gone
out yet sends the new priority in it instead."""

from datetime import timedelta

import pytest
from django.db import transaction

from alerts import notifications
from alerts.models import Incident, IncidentStatus, NotificationDelivery
from alerts.notifications.message import build_message
from alerts.notifications.services import notification_channel_create, notification_delivery_send
from alerts.services import incident_detection_rescored, incident_raise_or_extend
from alerts.tests.test_live_scream_that_grows_raises_its_incident_priority import close_segment, open_segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def sensor(make_site, make_sensor):
    return make_sensor(make_site(default_threshold=0.5))


@pytest.fixture
def sent(monkeypatch):
    """The messages each channel was sent, in order."""
    messages = []
    monkeypatch.setitem(
        notifications.TRANSPORTS, "webhook", lambda *, channel, message: messages.append((channel.name, message)) or 200
    )
    return messages


def webhook(site, name: str, notify_on: list[str]):
    return notification_channel_create(
        site=site, kind="webhook", name=name, url="https://hooks.example.org/", notify_on=notify_on
    )


def rescore(incident: Incident, peak_score: float) -> Incident:
    detection = incident.peak_detection
    detection.peak_score = peak_score
    detection.save(update_fields=["peak_score"])
    return incident_detection_rescored(detection=detection)


def test_a_live_scream_that_turns_critical_is_announced_again(
    sensor, sent, inline_tasks, django_capture_on_commit_callbacks
):
    webhook(sensor.site, "Pager", ["new"])
    webhook(sensor.site, "Escalations only", ["escalation"])
    with django_capture_on_commit_callbacks(execute=True):
        recording_id, detection_id = open_segment(sensor, peak_score=0.55)
    with django_capture_on_commit_callbacks(execute=True):
        close_segment(recording_id, detection_id, peak_score=0.97)

    assert [(name, message.payload["type"], message.payload["incident"]["priority"]) for name, message in sent] == [
        ("Pager", "incident.new", "low"),
        ("Pager", "incident.priority_raised", "critical"),
    ]
    incident = Incident.objects.get(detections=detection_id)
    message = sent[-1][1]
    assert message.subject == f"[Outcry] Priority raised: Critical incident #{incident.pk} at {sensor.site.name}"
    assert message.text.startswith(
        f"Priority raised: the scream went on, its peak score reached 0.97 and incident #{incident.pk} is now critical."
    )
    assert message.payload["reason"] == "priority:critical"
    assert dict(NotificationDelivery.objects.filter(incident=incident).values_list("reason", "announced_priority")) == {
        "new": "low",
        "priority:critical": "critical",
    }
    assert incident.events.filter(kind="notified").values_list("text", flat=True).last() == (
        "Notified Pager (webhook) of the priority rising to critical."
    )


def test_each_priority_reached_is_announced_once(
    sensor, make_incident, sent, inline_tasks, django_capture_on_commit_callbacks
):
    webhook(sensor.site, "Pager", ["new"])
    with django_capture_on_commit_callbacks(execute=True):
        incident = make_incident(sensor, peak_score=0.55)
    with django_capture_on_commit_callbacks(execute=True):
        rescore(incident, 0.9)
    with django_capture_on_commit_callbacks(execute=True):
        rescore(incident, 0.92)  # a higher peak, the same priority: nothing to announce
    with django_capture_on_commit_callbacks(execute=True):
        rescore(incident, 0.97)

    assert [message.payload["reason"] for _, message in sent] == ["new", "priority:high", "priority:critical"]
    assert NotificationDelivery.objects.filter(incident=incident).count() == 3


def test_an_announcement_not_yet_sent_carries_the_new_priority_instead(
    sensor, make_incident, sent, inline_tasks, django_capture_on_commit_callbacks
):
    webhook(sensor.site, "Pager", ["new"])
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not sent it yet
        incident = make_incident(sensor, peak_score=0.55)
    with django_capture_on_commit_callbacks(execute=True):
        rescore(incident, 0.97)

    assert sent == []
    (delivery,) = NotificationDelivery.objects.filter(incident=incident)
    assert notification_delivery_send(delivery_id=delivery.pk) == "sent"
    ((_, message),) = sent
    assert (message.payload["type"], message.payload["incident"]["priority"]) == ("incident.new", "critical")


def test_a_resolved_incident_hears_nothing(
    sensor, make_incident, sent, inline_tasks, django_capture_on_commit_callbacks
):
    webhook(sensor.site, "Pager", ["new"])
    with django_capture_on_commit_callbacks(execute=True):
        incident = make_incident(sensor, peak_score=0.55)
    Incident.objects.filter(pk=incident.pk).update(status=IncidentStatus.RESOLVED)
    with django_capture_on_commit_callbacks(execute=True):
        rescore(Incident.objects.get(pk=incident.pk), 0.97)

    assert [message.payload["reason"] for _, message in sent] == ["new"]


def test_a_channel_that_never_announced_the_incident_hears_nothing(
    sensor, make_incident, sent, inline_tasks, django_capture_on_commit_callbacks
):
    webhook(sensor.site, "Pager", ["new"])
    with django_capture_on_commit_callbacks(execute=True):
        incident = make_incident(sensor, peak_score=0.55)
    webhook(sensor.site, "Added later", ["new", "escalation"])
    with django_capture_on_commit_callbacks(execute=True):
        rescore(incident, 0.97)

    assert [(name, message.payload["reason"]) for name, message in sent] == [
        ("Pager", "new"),
        ("Pager", "priority:critical"),
    ]


def test_the_message_of_a_priority_rise(make_incident, sensor):
    incident = make_incident(sensor, peak_score=0.9)

    message = build_message(incident=incident, reason="priority:high", delivery_id=7)

    assert message.subject == f"[Outcry] Priority raised: High incident #{incident.pk} at {sensor.site.name}"
    assert "Priority:  High (peak score 0.90)" in message.text
    assert message.payload["type"] == "incident.priority_raised"
    assert message.payload["delivery_id"] == 7


def test_a_louder_scream_joining_the_open_incident_is_announced(
    sensor, make_incident, make_detection, sent, inline_tasks, django_capture_on_commit_callbacks
):
    webhook(sensor.site, "Pager", ["new"])
    with django_capture_on_commit_callbacks(execute=True):
        incident = make_incident(sensor, peak_score=0.55)
    louder = make_detection(sensor, peak_score=0.97, occurred_at=incident.last_detection_at + timedelta(seconds=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert incident_raise_or_extend(detection=louder) == incident

    assert [(message.payload["reason"], message.payload["incident"]["priority"]) for _, message in sent] == [
        ("new", "low"),
        ("priority:critical", "critical"),
    ]
    assert incident.events.filter(kind="detection_added").get().text == (
        "Another detection (0.97); 2 in all, priority raised from low to critical."
    )


def test_detections_raised_together_are_announced_once_with_their_priority(
    sensor, make_detection, sent, inline_tasks, django_capture_on_commit_callbacks
):
    """An upload's detections raise and extend the incident in one transaction: one message, at the end's priority."""
    webhook(sensor.site, "Pager", ["new"])
    first = make_detection(sensor, peak_score=0.55)
    second = make_detection(sensor, peak_score=0.97, occurred_at=first.occurred_at + timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        incident_raise_or_extend(detection=first)
        incident_raise_or_extend(detection=second)

    assert [(message.payload["reason"], message.payload["incident"]["priority"]) for _, message in sent] == [
        ("new", "critical"),
    ]
