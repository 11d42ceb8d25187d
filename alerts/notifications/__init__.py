"""Announcing incidents outside the console: one module per transport (email, webhook).

A transport module exposes ``send(*, channel, message) -> int | None`` (the response code where the
transport has one) and raises ``DeliveryError`` when the announcement did not get through.
``services`` creates the delivery rows, claims them exactly once and retries with backoff.
"""

from alerts.notifications import email, webhook
from alerts.notifications.message import DeliveryError

TRANSPORTS = {"email": email.send, "webhook": webhook.send}

__all__ = ["TRANSPORTS", "DeliveryError"]
