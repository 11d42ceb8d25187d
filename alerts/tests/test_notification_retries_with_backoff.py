from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import NotificationDelivery
from alerts.notifications.services import (
    notification_channel_create,
    notification_deliveries_create,
    notification_deliveries_due,
    notification_delivery_claim,
    notification_delivery_send,
)
from alerts.tests.webhook_server import webhook_server


def _make_due(delivery_id):
    NotificationDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_failed_webhook_is_retried_with_exponential_backoff_then_given_up(make_incident, settings):
    settings.ALERTS_DELIVERY_MAX_ATTEMPTS = 3
    settings.ALERTS_DELIVERY_BACKOFF_S = 30
    incident = make_incident()
    with webhook_server(status=503) as server:
        notification_channel_create(site=incident.site, kind="webhook", name="SOC", url=server.url, notify_on=["new"])
        (delivery,) = notification_deliveries_create(incident=incident, reason="new")

        before = timezone.now()
        assert notification_delivery_send(delivery_id=delivery.pk) == "pending"
        first = NotificationDelivery.objects.get(pk=delivery.pk)
        assert (first.attempts, first.response_code) == (1, 503)
        assert "HTTP 503" in first.last_error
        assert before + timedelta(seconds=29) <= first.next_attempt_at <= timezone.now() + timedelta(seconds=31)
        assert notification_delivery_send(delivery_id=delivery.pk) is None  # not due yet: nothing sent

        _make_due(delivery.pk)
        assert notification_delivery_send(delivery_id=delivery.pk) == "pending"
        second = NotificationDelivery.objects.get(pk=delivery.pk)
        assert second.next_attempt_at >= timezone.now() + timedelta(seconds=55)  # 60 s: doubled

        _make_due(delivery.pk)
        assert notification_delivery_send(delivery_id=delivery.pk) == "failed"

    assert len(server.received) == 3
    final = NotificationDelivery.objects.get(pk=delivery.pk)
    assert (final.status, final.attempts) == ("failed", 3)
    assert not incident.events.filter(kind="notified").exists()


def test_a_retry_that_succeeds_is_sent(make_incident):
    incident = make_incident()
    with webhook_server(status=500) as server:
        notification_channel_create(site=incident.site, kind="webhook", name="SOC", url=server.url, notify_on=["new"])
        (delivery,) = notification_deliveries_create(incident=incident, reason="new")
        notification_delivery_send(delivery_id=delivery.pk)
        server.answer_status = 204
        _make_due(delivery.pk)

        assert notification_deliveries_due() == [delivery.pk]
        assert notification_delivery_send(delivery_id=delivery.pk) == "sent"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts, delivery.last_error) == ("sent", 204, 2, "")


def test_unreachable_webhook_records_the_error(make_incident):
    incident = make_incident()
    notification_channel_create(
        site=incident.site, kind="webhook", name="Dead", url="http://127.0.0.1:9/nothing", notify_on=["new"]
    )
    (delivery,) = notification_deliveries_create(incident=incident, reason="new")

    assert notification_delivery_send(delivery_id=delivery.pk) == "pending"

    delivery.refresh_from_db()
    assert delivery.response_code is None and "could not reach" in delivery.last_error


@pytest.mark.parametrize("status", [301, 302])
def test_redirects_are_not_followed(make_incident, status):
    incident = make_incident()
    with webhook_server(status=status) as server:
        notification_channel_create(site=incident.site, kind="webhook", name="Moved", url=server.url, notify_on=["new"])
        (delivery,) = notification_deliveries_create(incident=incident, reason="new")

        assert notification_delivery_send(delivery_id=delivery.pk) == "pending"

    assert len(server.received) == 1


def test_the_periodic_sweep_sends_due_retries(make_incident, inline_tasks, django_capture_on_commit_callbacks):
    from alerts.tasks import deliver_due_notifications

    incident = make_incident()
    with webhook_server(status=500) as server:
        notification_channel_create(site=incident.site, kind="webhook", name="SOC", url=server.url, notify_on=["new"])
        (delivery,) = notification_deliveries_create(incident=incident, reason="new")
        notification_delivery_send(delivery_id=delivery.pk)
        server.answer_status = 200
        assert deliver_due_notifications.apply().get() == 0  # backing off

        _make_due(delivery.pk)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver_due_notifications.apply().get() == 1

    delivery.refresh_from_db()
    assert delivery.status == "sent" and len(server.received) == 2


def test_a_claim_that_lapsed_is_taken_again(make_incident, settings):
    """A worker killed mid-send leaves the row 'sending'; once its lease lapses the sweep retries it."""
    settings.ALERTS_DELIVERY_LEASE_S = 120
    incident = make_incident()
    notification_channel_create(
        site=incident.site, kind="webhook", name="SOC", url="https://x.example.org/", notify_on=["new"]
    )
    (delivery,) = notification_deliveries_create(incident=incident, reason="new")

    assert notification_delivery_claim(delivery_id=delivery.pk)
    assert notification_deliveries_due() == []
    _make_due(delivery.pk)

    assert notification_deliveries_due() == [delivery.pk]
    assert notification_delivery_claim(delivery_id=delivery.pk)
