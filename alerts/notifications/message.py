"""What an announcement says, whatever carries it."""

from dataclasses import dataclass

from django.conf import settings

from alerts.models import Incident


class DeliveryError(Exception):
    def __init__(self, message: str, *, response_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.response_code = response_code


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    payload: dict  # the JSON a webhook receives


def incident_page_url(incident: Incident) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/incidents/{incident.pk}/"


def build_message(*, incident: Incident, reason: str, delivery_id: int | None = None) -> Message:
    """``reason`` is "new", "escalation:<level>" or "priority:<priority it rose to>"."""
    from alerts.api.serializers import IncidentSerializer  # the same incident JSON as the API and console

    kind, _, detail = reason.partition(":")
    headline = f"{incident.get_priority_display()} incident #{incident.pk} at {incident.site.name}"
    subject, opening, event_type = {
        "escalation": (
            f"[Outcry] ESCALATION {detail}: {headline} not acknowledged",
            f"Still not acknowledged: incident #{incident.pk}.",
            "incident.escalated",
        ),
        "priority": (
            f"[Outcry] Priority raised: {headline}",
            f"Priority raised: the scream went on, its peak score reached {incident.peak_score:.2f} and incident "
            f"#{incident.pk} is now {incident.get_priority_display().lower()}.",
            "incident.priority_raised",
        ),
    }.get(kind, (f"[Outcry] {headline}", f"Scream detected: incident #{incident.pk}.", "incident.new"))
    lines = [
        opening,
        "",
        f"Site:      {incident.site.name}",
        f"Sensor:    {incident.sensor.name}" + (f" ({incident.sensor.location})" if incident.sensor.location else ""),
        f"Priority:  {incident.get_priority_display()} (peak score {incident.peak_score:.2f})",
        f"Opened:    {incident.opened_at:%Y-%m-%d %H:%M:%S} UTC",
        f"Status:    {incident.get_status_display()}",
        "",
        f"Open it:   {incident_page_url(incident)}",
    ]
    payload = {
        "type": event_type,
        "reason": reason,
        "delivery_id": delivery_id,
        "incident_page": incident_page_url(incident),
        "incident": dict(IncidentSerializer(incident).data),
    }
    return Message(subject=subject, text="\n".join(lines), payload=payload)
