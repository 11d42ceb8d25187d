"""A webhook reaches a real HTTP server, signed so the receiver can verify it."""

import hashlib
import hmac
import json
import time

from alerts.models import NotificationDelivery
from alerts.notifications.services import (
    notification_channel_create,
    notification_deliveries_create,
    notification_delivery_send,
)
from alerts.notifications.webhook import sign, verify
from alerts.tests.webhook_server import webhook_server


def test_webhook_body_is_signed_with_timestamp_and_secret(make_incident):
    incident = make_incident()
    with webhook_server() as server:
        channel = notification_channel_create(
            site=incident.site, kind="webhook", name="SOC", url=server.url, notify_on=["new"]
        )
        (delivery,) = notification_deliveries_create(incident=incident, reason="new")

        assert notification_delivery_send(delivery_id=delivery.pk) == "sent"

    (request,) = server.received
    headers, body = request["headers"], request["body"]
    timestamp = headers["X-Outcry-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = (
        "sha256=" + hmac.new(channel.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    )
    assert headers["X-Outcry-Signature"] == expected
    assert verify(secret=channel.secret, timestamp=timestamp, body=body, signature=headers["X-Outcry-Signature"])
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["type"] == "incident.new" and payload["reason"] == "new"
    assert payload["incident"]["id"] == incident.pk and payload["incident"]["site"]["id"] == incident.site_id
    assert payload["delivery_id"] == delivery.pk
    delivery = NotificationDelivery.objects.get(pk=delivery.pk)
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("sent", 200, 1)
    assert delivery.sent_at is not None
    notified = incident.events.get(kind="notified")
    assert notified.actor is None and notified.data["channel_id"] == channel.pk


def test_verification_refuses_a_tampered_body_a_wrong_secret_and_an_old_timestamp():
    timestamp = str(int(time.time()))
    body = b'{"incident": 1}'
    signature = sign(secret="s3cret", timestamp=timestamp, body=body)

    assert verify(secret="s3cret", timestamp=timestamp, body=body, signature=signature)
    assert not verify(secret="s3cret", timestamp=timestamp, body=b'{"incident": 2}', signature=signature)
    assert not verify(secret="other", timestamp=timestamp, body=body, signature=signature)
    old = str(int(time.time()) - 3600)
    assert not verify(
        secret="s3cret", timestamp=old, body=body, signature=sign(secret="s3cret", timestamp=old, body=body)
    )


def test_each_channel_has_its_own_secret(make_site):
    site = make_site()
    first = notification_channel_create(
        site=site, kind="webhook", name="A", url="https://a.example.org/", notify_on=["new"]
    )
    second = notification_channel_create(
        site=site, kind="webhook", name="B", url="https://b.example.org/", notify_on=["new"]
    )

    assert len(first.secret) >= 32 and first.secret != second.secret
