"""A new incident is announced once per channel, however often it is asked and however many workers race."""

import threading

import pytest
from django.core import mail
from django.db import connection

from alerts import notifications
from alerts.models import NotificationDelivery
from alerts.notifications.services import (
    notification_channel_create,
    notification_deliveries_create,
    notification_delivery_claim,
    notification_delivery_send,
)


@pytest.fixture
def counting_transport(monkeypatch):
    calls = []
    monkeypatch.setitem(
        notifications.TRANSPORTS, "webhook", lambda *, channel, message: calls.append(channel.pk) or 200
    )
    return calls


def _webhook(site, name="Hook", **fields):
    fields.setdefault("notify_on", ["new"])
    return notification_channel_create(site=site, kind="webhook", name=name, url="https://hooks.example.org/", **fields)


def test_two_claims_of_one_delivery_give_one_winner(make_incident):
    incident = make_incident()
    _webhook(incident.site)
    (delivery,) = notification_deliveries_create(incident=incident, reason="new")

    assert notification_delivery_claim(delivery_id=delivery.pk) is True
    assert notification_delivery_claim(delivery_id=delivery.pk) is False


def test_sending_one_delivery_twice_sends_once(make_incident, counting_transport):
    incident = make_incident()
    channel = _webhook(incident.site)
    (delivery,) = notification_deliveries_create(incident=incident, reason="new")

    assert notification_delivery_send(delivery_id=delivery.pk) == "sent"
    assert notification_delivery_send(delivery_id=delivery.pk) is None

    assert counting_transport == [channel.pk]
    assert incident.events.filter(kind="notified").count() == 1


def test_creating_deliveries_twice_creates_nothing_new(make_incident):
    incident = make_incident()
    _webhook(incident.site)

    notification_deliveries_create(incident=incident, reason="new")

    assert notification_deliveries_create(incident=incident, reason="new") == []
    assert NotificationDelivery.objects.count() == 1


def test_new_incident_notifies_the_enabled_channels_that_want_new_incidents_after_commit(
    make_sensor, make_detection, inline_tasks, counting_transport, django_capture_on_commit_callbacks
):
    from alerts.services import incident_raise_or_extend

    sensor = make_sensor()
    wanted = _webhook(sensor.site, "Wants new")
    _webhook(sensor.site, "Escalations only", notify_on=["escalation"])
    _webhook(sensor.site, "Disabled", enabled=False)

    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.9))
        assert counting_transport == []  # nothing leaves before the commit

    assert counting_transport == [wanted.pk]
    delivery = NotificationDelivery.objects.get()
    assert (delivery.channel, delivery.incident, delivery.reason, delivery.status) == (wanted, incident, "new", "sent")


def test_joining_an_incident_notifies_nobody_again(make_sensor, make_detection, counting_transport):
    from alerts.services import incident_raise_or_extend

    sensor = make_sensor()
    _webhook(sensor.site)
    incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.9))

    incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.95, start_s=2))

    assert NotificationDelivery.objects.count() == 1


def test_email_channel_sends_through_djangos_mail(make_incident):
    incident = make_incident()
    notification_channel_create(
        site=incident.site,
        kind="email",
        name="Desk",
        recipients=["desk@example.org", "chief@example.org"],
        notify_on=["new"],
    )
    (delivery,) = notification_deliveries_create(incident=incident, reason="new")

    assert notification_delivery_send(delivery_id=delivery.pk) == "sent"

    (message,) = mail.outbox
    assert message.to == ["desk@example.org", "chief@example.org"]
    assert f"incident #{incident.pk}" in message.subject
    assert f"/incidents/{incident.pk}/" in message.body


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_delivery_send_it_once(make_incident, counting_transport):
    incident = make_incident()
    _webhook(incident.site)
    (delivery,) = notification_deliveries_create(incident=incident, reason="new")
    barrier = threading.Barrier(4)
    results = []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(notification_delivery_send(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(results, key=str) == [None, None, None, "sent"]
    assert len(counting_transport) == 1
