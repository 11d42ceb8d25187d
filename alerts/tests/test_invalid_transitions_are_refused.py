import pytest

from alerts.exceptions import IncidentInvalidInput, IncidentStateConflict
from alerts.models import IncidentEvent
from alerts.services import (
    incident_acknowledge,
    incident_annotate,
    incident_assign,
    incident_hold,
    incident_reopen,
    incident_resolve,
)


@pytest.fixture
def world(make_sensor, make_member, make_incident):
    sensor = make_sensor()
    operator = make_member(sensor.site, "operator")
    operator.username = "bob"
    operator.save()
    return operator, make_incident(sensor)


ACTIONS_ON_RESOLVED = {
    "acknowledge": lambda incident, user: incident_acknowledge(incident=incident, user=user),
    "hold": lambda incident, user: incident_hold(incident=incident, user=user, text="x"),
    "resolve": lambda incident, user: incident_resolve(incident=incident, user=user, resolution="test"),
    "assign": lambda incident, user: incident_assign(incident=incident, user=user, assignee=user),
}


@pytest.mark.parametrize("action", sorted(ACTIONS_ON_RESOLVED))
def test_resolved_incident_refuses_every_action_but_notes_and_reopen(world, action):
    operator, incident = world
    incident_resolve(incident=incident, user=operator, resolution="false_alarm")
    events_before = IncidentEvent.objects.count()

    with pytest.raises(IncidentStateConflict) as refused:
        ACTIONS_ON_RESOLVED[action](incident, operator)

    assert refused.value.message.startswith(f"Incident {incident.pk} is already resolved (false alarm) by bob at ")
    assert IncidentEvent.objects.count() == events_before


def test_reopen_of_an_unresolved_incident_is_refused(world):
    operator, incident = world

    with pytest.raises(IncidentStateConflict, match=f"Incident {incident.pk} is not resolved"):
        incident_reopen(incident=incident, user=operator)


def test_hold_of_a_held_incident_is_refused(world):
    operator, incident = world
    incident_hold(incident=incident, user=operator, text="Waiting")

    with pytest.raises(IncidentStateConflict, match="is already on hold"):
        incident_hold(incident=incident, user=operator, text="Still waiting")


@pytest.mark.parametrize("resolution", ["", "solved", None])
def test_resolve_needs_a_known_resolution(world, resolution):
    operator, incident = world

    with pytest.raises(IncidentInvalidInput, match="Resolving needs a resolution") as refused:
        incident_resolve(incident=incident, user=operator, resolution=resolution)

    assert refused.value.field == "resolution"
    incident.refresh_from_db()
    assert incident.status == "new"


@pytest.mark.parametrize("text", ["", "   ", None])
def test_notes_and_holds_need_text(world, text):
    operator, incident = world

    with pytest.raises(IncidentInvalidInput):
        incident_annotate(incident=incident, user=operator, text=text)
    with pytest.raises(IncidentInvalidInput):
        incident_hold(incident=incident, user=operator, text=text)
    assert IncidentEvent.objects.filter(incident=incident).count() == 1
