"""The second acknowledgement changes nothing and tells who won (the API turns it into 409)."""

import pytest

from alerts.exceptions import IncidentStateConflict
from alerts.models import IncidentEvent, IncidentStatus
from alerts.services import incident_acknowledge


def test_second_acknowledge_is_refused_naming_the_first_and_writes_nothing(make_sensor, make_member, make_incident):
    sensor = make_sensor()
    alice = make_member(sensor.site, "operator", user=None)
    bob = make_member(sensor.site, "operator")
    alice.username = "alice"
    alice.save()
    incident = make_incident(sensor)
    incident_acknowledge(incident=incident, user=alice)
    stale_copy = type(incident).objects.get(pk=incident.pk)
    stale_copy.status = IncidentStatus.NEW  # what bob's console still showed

    with pytest.raises(IncidentStateConflict) as refused:
        incident_acknowledge(incident=stale_copy, user=bob)

    assert refused.value.message.startswith(f"Incident {incident.pk} was already acknowledged by alice at ")
    assert refused.value.message.endswith(" UTC.")
    incident.refresh_from_db()
    assert incident.acknowledged_by == alice
    assert IncidentEvent.objects.filter(incident=incident, kind="acknowledged").count() == 1


def test_same_operator_acknowledging_twice_changes_nothing(make_sensor, make_member, make_incident):
    sensor = make_sensor()
    operator = make_member(sensor.site, "operator")
    incident = make_incident(sensor)
    first = incident_acknowledge(incident=incident, user=operator)
    acknowledged_at = first.acknowledged_at

    with pytest.raises(IncidentStateConflict):
        incident_acknowledge(incident=incident, user=operator)

    incident.refresh_from_db()
    assert incident.acknowledged_at == acknowledged_at
    assert IncidentEvent.objects.filter(incident=incident, kind="acknowledged").count() == 1
