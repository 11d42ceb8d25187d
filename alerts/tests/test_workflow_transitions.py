"""Every transition of the workflow: the status it lands in, what it stamps, the event it writes."""

import pytest

from alerts.models import IncidentEvent, IncidentStatus
from alerts.services import (
    incident_acknowledge,
    incident_annotate,
    incident_hold,
    incident_reopen,
    incident_resolve,
)


@pytest.fixture
def operator_and_incident(make_sensor, make_member, make_incident):
    sensor = make_sensor()
    return make_member(sensor.site, "operator"), make_incident(sensor)


def _events(incident):
    return list(IncidentEvent.objects.filter(incident=incident).values_list("kind", "from_status", "to_status"))


def test_acknowledge_moves_new_to_acknowledged_and_stamps_who_and_when(operator_and_incident):
    operator, incident = operator_and_incident

    incident = incident_acknowledge(incident=incident, user=operator)

    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert incident.acknowledged_by == operator and incident.acknowledged_at is not None
    assert _events(incident)[-1] == ("acknowledged", "new", "acknowledged")
    assert incident.events.last().actor == operator


def test_hold_from_acknowledged_keeps_the_first_acknowledgement(operator_and_incident, make_member):
    operator, incident = operator_and_incident
    incident = incident_acknowledge(incident=incident, user=operator)
    acknowledged_at = incident.acknowledged_at

    incident = incident_hold(incident=incident, user=make_member(incident.site, "manager"), text="Waiting on guard")

    assert incident.status == IncidentStatus.ON_HOLD
    assert incident.acknowledged_by == operator and incident.acknowledged_at == acknowledged_at
    assert incident.events.last().text == "Waiting on guard"
    assert _events(incident)[-1] == ("held", "acknowledged", "on_hold")


def test_hold_from_new_acknowledges_it(operator_and_incident):
    operator, incident = operator_and_incident

    incident = incident_hold(incident=incident, user=operator, text="Calling the nurse")

    assert incident.status == IncidentStatus.ON_HOLD
    assert incident.acknowledged_by == operator


def test_acknowledge_resumes_a_held_incident(operator_and_incident):
    operator, incident = operator_and_incident
    incident_hold(incident=incident, user=operator, text="Waiting")

    incident = incident_acknowledge(incident=incident, user=operator)

    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert _events(incident)[-1] == ("acknowledged", "on_hold", "acknowledged")


@pytest.mark.parametrize("before", ["new", "acknowledged", "on_hold"])
def test_resolve_from_every_open_status_records_resolution_and_note(operator_and_incident, before):
    operator, incident = operator_and_incident
    if before == "acknowledged":
        incident_acknowledge(incident=incident, user=operator)
    elif before == "on_hold":
        incident_hold(incident=incident, user=operator, text="Waiting")

    incident = incident_resolve(incident=incident, user=operator, resolution="false_alarm", note="Kids playing")

    assert incident.status == IncidentStatus.RESOLVED
    assert (incident.resolution, incident.resolution_note) == ("false_alarm", "Kids playing")
    assert incident.resolved_by == operator and incident.resolved_at is not None
    event = incident.events.last()
    assert (event.kind, event.from_status, event.to_status) == ("resolved", before, "resolved")
    assert event.data == {"resolution": "false_alarm"} and event.text == "Kids playing"


def test_reopen_returns_to_acknowledged_and_keeps_the_old_resolution_in_the_timeline(operator_and_incident):
    operator, incident = operator_and_incident
    incident_resolve(incident=incident, user=operator, resolution="false_alarm", note="Kids")

    incident = incident_reopen(incident=incident, user=operator, text="It happened again")

    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert (incident.resolution, incident.resolution_note, incident.resolved_at, incident.resolved_by) == (
        "",
        "",
        None,
        None,
    )
    assert incident.acknowledged_by == operator  # never acknowledged before: the reopener owns it
    event = incident.events.last()
    assert (event.kind, event.from_status, event.to_status, event.text) == (
        "reopened",
        "resolved",
        "acknowledged",
        "It happened again",
    )
    assert event.data == {"previous_resolution": "false_alarm", "previous_note": "Kids"}


@pytest.mark.parametrize("status_action", [None, "resolve"])
def test_annotate_adds_a_note_in_any_status_without_changing_it(operator_and_incident, status_action):
    operator, incident = operator_and_incident
    if status_action:
        incident_resolve(incident=incident, user=operator, resolution="test")
    status = type(incident).objects.get(pk=incident.pk).status

    event = incident_annotate(incident=incident, user=operator, text="  Guard on the way  ")

    assert (event.kind, event.text, event.actor, event.from_status, event.to_status) == (
        "note",
        "Guard on the way",
        operator,
        "",
        "",
    )
    assert type(incident).objects.get(pk=incident.pk).status == status


def test_every_change_is_one_event_in_order(operator_and_incident):
    operator, incident = operator_and_incident

    incident_acknowledge(incident=incident, user=operator)
    incident_annotate(incident=incident, user=operator, text="On it")
    incident_hold(incident=incident, user=operator, text="Waiting on police")
    incident_resolve(incident=incident, user=operator, resolution="confirmed_emergency")
    incident_reopen(incident=incident, user=operator)

    assert [kind for kind, _from, _to in _events(incident)] == [
        "opened",
        "acknowledged",
        "note",
        "held",
        "resolved",
        "reopened",
    ]
