"""An incident still new after the site's ack timeout escalates once per step to the managers."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from alerts import notifications
from alerts.models import Incident, NotificationDelivery
from alerts.notifications.services import notification_channel_create
from alerts.services import incident_acknowledge, incident_escalate
from alerts.tasks import escalate_unacknowledged


@pytest.fixture
def world(make_site, make_sensor, make_member, make_user, make_incident, monkeypatch):
    site = make_site(ack_timeout_s=300)
    managers = [make_member(site, "manager", user=make_user(f"boss{n}")) for n in range(2)]
    make_member(site, "operator")
    webhook_calls = []
    monkeypatch.setitem(
        notifications.TRANSPORTS, "webhook", lambda *, channel, message: webhook_calls.append(message.payload) or 200
    )
    notification_channel_create(
        site=site, kind="webhook", name="Escalations", url="https://h.example.org/", notify_on=["escalation"]
    )
    incident = make_incident(make_sensor(site), opened_at=timezone.now() - timedelta(seconds=301))
    return {"site": site, "managers": managers, "incident": incident, "webhook_calls": webhook_calls}


def _run_beat(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return escalate_unacknowledged.apply().get()


def test_unacknowledged_incident_escalates_to_the_managers(world, inline_tasks, django_capture_on_commit_callbacks):
    assert _run_beat(django_capture_on_commit_callbacks) == 1

    incident = Incident.objects.get(pk=world["incident"].pk)
    assert incident.escalation_level == 1 and incident.last_escalated_at is not None
    assert incident.status == "new"
    escalated = incident.events.get(kind="escalated")
    assert escalated.actor is None and escalated.data == {"level": 1}
    (email,) = mail.outbox
    assert sorted(email.to) == ["boss0@example.org", "boss1@example.org"]
    assert "ESCALATION 1" in email.subject
    (payload,) = world["webhook_calls"]
    assert payload["type"] == "incident.escalated" and payload["reason"] == "escalation:1"
    assert NotificationDelivery.objects.get().reason == "escalation:1"
    assert incident.events.filter(kind="notified").count() == 2  # the webhook and the managers' email
    assert incident.events.filter(text__startswith="Emailed 2 managers of ").exists()


def test_each_step_escalates_once(world, inline_tasks, django_capture_on_commit_callbacks):
    _run_beat(django_capture_on_commit_callbacks)
    assert _run_beat(django_capture_on_commit_callbacks) == 0  # the next tick, same step: nothing
    assert _run_beat(django_capture_on_commit_callbacks) == 0

    Incident.objects.filter(pk=world["incident"].pk).update(opened_at=timezone.now() - timedelta(seconds=601))
    assert _run_beat(django_capture_on_commit_callbacks) == 1  # twice the timeout: step 2
    assert _run_beat(django_capture_on_commit_callbacks) == 0

    incident = Incident.objects.get(pk=world["incident"].pk)
    assert incident.escalation_level == 2
    assert list(incident.events.filter(kind="escalated").values_list("data", flat=True)) == [{"level": 1}, {"level": 2}]
    assert len(mail.outbox) == 2
    assert sorted(NotificationDelivery.objects.values_list("reason", flat=True)) == ["escalation:1", "escalation:2"]


def test_two_escalations_of_the_same_step_give_one(world):
    stale = Incident.objects.get(pk=world["incident"].pk)

    assert incident_escalate(incident=world["incident"]) is True
    assert incident_escalate(incident=stale) is False

    assert Incident.objects.get(pk=world["incident"].pk).escalation_level == 1
    assert world["incident"].events.filter(kind="escalated").count() == 1


def test_not_yet_due_is_not_escalated(make_site, make_sensor, make_incident, django_capture_on_commit_callbacks):
    site = make_site(ack_timeout_s=300)
    make_incident(make_sensor(site), opened_at=timezone.now() - timedelta(seconds=200))

    assert _run_beat(django_capture_on_commit_callbacks) == 0


def test_acknowledged_incident_never_escalates(world, make_member, django_capture_on_commit_callbacks):
    incident_acknowledge(incident=world["incident"], user=world["managers"][0])

    assert _run_beat(django_capture_on_commit_callbacks) == 0
    assert not mail.outbox


def test_zero_timeout_disables_escalation(make_site, make_sensor, make_incident, django_capture_on_commit_callbacks):
    site = make_site(ack_timeout_s=0)
    make_incident(make_sensor(site), opened_at=timezone.now() - timedelta(days=1))

    assert _run_beat(django_capture_on_commit_callbacks) == 0


def test_escalation_stops_at_the_last_step(world, settings, django_capture_on_commit_callbacks):
    settings.ALERTS_MAX_ESCALATION_LEVEL = 1
    Incident.objects.filter(pk=world["incident"].pk).update(opened_at=timezone.now() - timedelta(hours=5))

    assert _run_beat(django_capture_on_commit_callbacks) == 1
    assert _run_beat(django_capture_on_commit_callbacks) == 0


def test_escalation_is_registered_with_the_beat_every_15_seconds():
    from outcry.celery import app

    entry = app.conf.beat_schedule["alerts.escalate_unacknowledged"]
    assert entry["task"] == "alerts.tasks.escalate_unacknowledged"
    assert entry["schedule"] == 15.0
    assert "alerts.tasks.escalate_unacknowledged" in app.tasks
    sweep = app.conf.beat_schedule["alerts.deliver_due_notifications"]
    assert (sweep["task"], sweep["schedule"]) == ("alerts.tasks.deliver_due_notifications", 15.0)
