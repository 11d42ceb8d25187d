"""Notification channels and deliveries: create, claim exactly once, send, retry with backoff.

A delivery row is created once per (channel, incident, reason) and sent by whichever worker first
moves it pending → sending with a conditional UPDATE; every other attempt to claim it changes
nothing and sends nothing. A failed send goes back to pending with ``next_attempt_at`` pushed out
exponentially (30 s, 60 s, 120 s, …) until ``ALERTS_DELIVERY_MAX_ATTEMPTS``, then fails for good.
A claim lapses after ``ALERTS_DELIVERY_LEASE_S`` (a worker killed mid-send), after which the
periodic sweep may claim it again: a crash can repeat a send, nothing else can.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts.models import (
    DeliveryStatus,
    Incident,
    NotificationChannel,
    NotificationDelivery,
    new_webhook_secret,
)
from alerts.notifications.message import DeliveryError, build_message
from outcry.tasking import enqueue
from sites.models import Site
from sites.selectors import site_managers

logger = logging.getLogger(__name__)


def max_attempts() -> int:
    return getattr(settings, "ALERTS_DELIVERY_MAX_ATTEMPTS", 5)


def backoff_base_s() -> float:
    return getattr(settings, "ALERTS_DELIVERY_BACKOFF_S", 30.0)


def lease_s() -> float:
    return getattr(settings, "ALERTS_DELIVERY_LEASE_S", 120.0)


# --- Channels -----------------------------------------------------------------------------------


def notification_channel_create(*, site: Site, kind: str, name: str, **fields) -> NotificationChannel:
    """A new channel; a webhook gets its signing secret here (``channel.reveal_secret``, shown once)."""
    channel = NotificationChannel(site=site, kind=kind, name=name, **fields)
    channel.full_clean()
    channel.save()  # a webhook's secret is generated on its first save
    channel.reveal_secret = channel.secret or None
    return channel


def notification_channel_update(*, channel: NotificationChannel, data: dict) -> NotificationChannel:
    url_changes = "url" in data and data["url"] != channel.url
    for field, value in data.items():
        setattr(channel, field, value)
    # An unchanged URL is not checked again here (delivery checks it every time): a name that has since
    # moved to a private address must not stop a manager from renaming or disabling the channel.
    channel.full_clean(exclude=None if url_changes else ["url"])
    channel.save()
    return channel


def notification_channel_rotate_secret(*, channel: NotificationChannel) -> NotificationChannel:
    """A new webhook secret (returned once in ``reveal_secret``); the old one stops signing at once."""
    channel.secret = new_webhook_secret()
    channel.save(update_fields=["secret", "updated_at"])
    channel.reveal_secret = channel.secret
    return channel


def notification_channel_delete(*, channel: NotificationChannel) -> None:
    channel.delete()


# --- Deliveries ---------------------------------------------------------------------------------


def notification_deliveries_create(
    *, incident: Incident, reason: str, channel_ids: set[int] | None = None
) -> list[NotificationDelivery]:
    """One delivery per enabled channel of the site that announces ``reason`` (of ``channel_ids``
    only, when given); sent after commit.

    ``get_or_create`` on the unique (channel, incident, reason): asking twice creates and sends
    nothing new.
    """
    from alerts.tasks import deliver_notification

    channels = NotificationChannel.objects.filter(site_id=incident.site_id, enabled=True)
    if channel_ids is not None:
        channels = channels.filter(pk__in=channel_ids)
    created = []
    for channel in channels:
        if not channel.notifies_on(reason):
            continue
        delivery, is_new = NotificationDelivery.objects.get_or_create(channel=channel, incident=incident, reason=reason)
        if is_new:
            created.append(delivery)
            enqueue(deliver_notification, delivery.pk)
    return created


def notification_deliveries_for_priority_rise(*, incident_id: int) -> list[NotificationDelivery]:
    """Tell the channels that announced the incident that its priority rose (reason "priority:<p>").

    Called once the rise has committed. Only channels whose "new" delivery has left pending hear of
    it: a pending one is built when it is sent, so it will carry the new priority itself, and a
    channel that never announced the incident (made since, or the incident opened before it was
    enabled) has nothing to amend. A channel already sent a message at this priority (the new
    incident's, sent after the rise) is skipped too. One delivery per channel and priority reached,
    so a scream that goes low → high → critical sends at most two; nothing once it is resolved.
    """
    incident = Incident.objects.get(pk=incident_id)
    if not incident.is_open:
        return []
    deliveries = NotificationDelivery.objects.filter(incident=incident)
    announced = deliveries.filter(reason="new").exclude(status=DeliveryStatus.PENDING)
    told_already = deliveries.filter(status=DeliveryStatus.SENT, announced_priority=incident.priority)
    return notification_deliveries_create(
        incident=incident,
        reason=f"priority:{incident.priority}",
        channel_ids=set(announced.values_list("channel_id", flat=True))
        - set(told_already.values_list("channel_id", flat=True)),
    )


def notification_delivery_claim(*, delivery_id: int) -> bool:
    """Take the delivery for sending (True) — only if it is due and nobody holds it."""
    now = timezone.now()
    claimable = Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING)
    return bool(
        NotificationDelivery.objects.filter(claimable, pk=delivery_id, next_attempt_at__lte=now).update(
            status=DeliveryStatus.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=lease_s()),
            updated_at=now,
        )
    )


def notification_delivery_send(*, delivery_id: int) -> str | None:
    """Claim and send one delivery; the status it ended in, or None when it was not ours to send."""
    from alerts.notifications import TRANSPORTS
    from alerts.services import incident_log_notification

    if not notification_delivery_claim(delivery_id=delivery_id):
        return None
    delivery = NotificationDelivery.objects.select_related(
        "channel", "incident__site", "incident__sensor", "incident__peak_detection"
    ).get(pk=delivery_id)
    channel, incident = delivery.channel, delivery.incident
    response_code = None
    try:
        if not channel.enabled:
            raise DeliveryError("the channel was disabled")
        message = build_message(incident=incident, reason=delivery.reason, delivery_id=delivery.pk)
        response_code = TRANSPORTS[channel.kind](channel=channel, message=message)
    except DeliveryError as error:
        return _delivery_failed(delivery=delivery, error=error.message, response_code=error.response_code)
    except Exception as error:  # a bug in a transport must not leave the row claimed
        logger.exception("delivery %s crashed", delivery.pk)
        return _delivery_failed(delivery=delivery, error=f"{type(error).__name__}: {error}", response_code=None)
    now = timezone.now()
    NotificationDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SENT,
        sent_at=now,
        response_code=response_code,
        last_error="",
        announced_priority=incident.priority,
        updated_at=now,
    )
    logger.info("delivery %s sent on %s (%s)", delivery.pk, channel, response_code)
    incident_log_notification(
        incident=incident,
        text=f"Notified {channel.name} ({channel.get_kind_display().lower()}) of {_reason_words(delivery.reason)}.",
        data={
            "channel_id": channel.pk,
            "delivery_id": delivery.pk,
            "reason": delivery.reason,
            "response_code": response_code,
        },
    )
    return DeliveryStatus.SENT


def _delivery_failed(*, delivery: NotificationDelivery, error: str, response_code: int | None) -> str:
    now = timezone.now()
    attempts = NotificationDelivery.objects.values_list("attempts", flat=True).get(pk=delivery.pk)
    if attempts >= max_attempts():
        status, next_attempt_at = DeliveryStatus.FAILED, now
    else:
        status = DeliveryStatus.PENDING
        next_attempt_at = now + timedelta(seconds=backoff_base_s() * 2 ** (attempts - 1))
    NotificationDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status,
        next_attempt_at=next_attempt_at,
        response_code=response_code,
        last_error=error[:2000],
        updated_at=now,
    )
    logger.warning("delivery %s attempt %s failed (%s): %s", delivery.pk, attempts, status, error)
    return status


def notification_deliveries_due() -> list[int]:
    """Deliveries to (re)try now: pending and due, or claimed by a worker whose lease lapsed."""
    now = timezone.now()
    return list(
        NotificationDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING], next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )


def _reason_words(reason: str) -> str:
    kind, _, detail = reason.partition(":")
    if kind == "escalation":
        return f"escalation step {detail}"
    if kind == "priority":
        return f"the priority rising to {detail}"
    return "the new incident"


# --- Escalation email to managers -------------------------------------------------------------


def escalation_email_send(*, incident: Incident, level: int) -> list[str]:
    """Email the site's managers that the incident is still unacknowledged; the addresses used."""
    from alerts.notifications.email import send_to
    from alerts.services import incident_log_notification

    recipients = sorted({email for email in site_managers(site=incident.site).values_list("email", flat=True) if email})
    if not recipients:
        logger.warning(
            "incident %s escalated to step %s but %s has no manager with an email", incident.pk, level, incident.site
        )
        return []
    message = build_message(incident=incident, reason=f"escalation:{level}")
    send_to(recipients=recipients, message=message)
    managers = "1 manager" if len(recipients) == 1 else f"{len(recipients)} managers"
    with transaction.atomic():
        incident_log_notification(
            incident=incident,
            text=f"Emailed {managers} of {incident.site.name} (escalation step {level}).",
            data={"reason": f"escalation:{level}", "managers": recipients},
        )
    return recipients
