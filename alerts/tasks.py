"""Celery tasks of alerts: thin wrappers around services (see outcry.tasking for how they run)."""

import logging

from celery import shared_task
from django.utils import timezone

from alerts.models import Incident
from alerts.notifications.services import escalation_email_send, notification_deliveries_due, notification_delivery_send
from alerts.selectors import incidents_awaiting_acknowledgement
from alerts.services import incident_escalate, incident_escalation_due
from outcry.tasking import enqueue

logger = logging.getLogger(__name__)


@shared_task(name="alerts.tasks.deliver_notification")
def deliver_notification(delivery_id: int) -> str | None:
    """Send one notification delivery, exactly once however many workers get this task."""
    return notification_delivery_send(delivery_id=delivery_id)


@shared_task(name="alerts.tasks.deliver_due_notifications")
def deliver_due_notifications() -> int:
    """Periodic: hand out deliveries whose retry is due (or whose worker died mid-send)."""
    due = notification_deliveries_due()
    for delivery_id in due:
        enqueue(deliver_notification, delivery_id)
    return len(due)


@shared_task(name="alerts.tasks.escalate_unacknowledged")
def escalate_unacknowledged() -> int:
    """Periodic: escalate every incident still new past its site's acknowledgement timeout step."""
    now = timezone.now()
    escalated = 0
    for incident in incidents_awaiting_acknowledgement():
        try:
            if incident_escalation_due(incident=incident, now=now) and incident_escalate(incident=incident):
                escalated += 1
        except Exception:  # one incident's failure must not hold back every other site's escalations
            logger.exception("escalating incident %s failed", incident.pk)
    return escalated


@shared_task(name="alerts.tasks.email_escalation_to_managers")
def email_escalation_to_managers(incident_id: int, level: int) -> int:
    incident = Incident.objects.select_related("site", "sensor", "peak_detection__recording").get(pk=incident_id)
    return len(escalation_email_send(incident=incident, level=level))
