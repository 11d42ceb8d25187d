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
    """``reason`` is "new" or "escalation:<level>"."""
    from alerts.api.serializers import IncidentSerializer  # the same incident JSON as the API and console

    escalation = reason.startswith("escalation")
    level = reason.split(":", 1)[1] if escalation else None
    headline = f"{incident.get_priority_display()} incident #{incident.pk} at {incident.site.name}"
    subject = f"[Outcry] ESCALATION {level}: {headline} not acknowledged" if escalation else f"[Outcry] {headline}"
    lines = [
        f"{'Still not acknowledged' if escalation else 'Scream detected'}: incident #{incident.pk}.",
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
        "type": "incident.escalated" if escalation else "incident.new",
        "reason": reason,
        "delivery_id": delivery_id,
        "incident_page": incident_page_url(incident),
        "incident": dict(IncidentSerializer(incident).data),
    }
    return Message(subject=subject, text="\n".join(lines), payload=payload)
