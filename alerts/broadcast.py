"""The live broadcast of incident changes to the console websockets of each site.

Group: ``site.<site_id>.incidents``. Message (sent only after the change commits)::

    {"type": "incident.changed",
     "incident": <the REST incident JSON without allowed_actions>,
     "event": {"id", "kind", "actor": {"id", "username"} | null, "from_status", "to_status", "text",
               "created_at"}}
"""

import json

from django.core.serializers.json import DjangoJSONEncoder

from alerts.models import Incident, IncidentEvent
from outcry.realtime import broadcast_after_commit

INCIDENT_CHANGED = "incident.changed"


def incident_group(site_id: int) -> str:
    return f"site.{site_id}.incidents"


def access_group(user_id: int) -> str:
    """The consoles of one user, told to check their access again (``{"type": "access.changed"}``)."""
    return f"user.{user_id}.access"


def access_changed_broadcast(*, user_id: int) -> None:
    """Have ``user_id``'s open consoles check their sites and sign-in again once the transaction commits."""
    # robust: the change itself must not fail with the channel layer; the consoles' periodic check catches up.
    broadcast_after_commit(access_group(user_id), {"type": "access.changed"}, robust=True)


def incident_changed_message(*, incident: Incident, event: IncidentEvent) -> dict:
    from alerts.api.serializers import IncidentEventSerializer, IncidentSerializer

    incident_data = IncidentSerializer(incident).data
    event_data = IncidentEventSerializer(event).data
    # Plain JSON types only: the Redis layer packs messages with msgpack.
    return json.loads(
        json.dumps({"type": INCIDENT_CHANGED, "incident": incident_data, "event": event_data}, cls=DjangoJSONEncoder)
    )


def incident_broadcast(*, incident: Incident, event: IncidentEvent) -> None:
    """Announce ``event`` on ``incident`` to its site's consoles once the transaction commits."""
    broadcast_after_commit(incident_group(incident.site_id), incident_changed_message(incident=incident, event=event))
