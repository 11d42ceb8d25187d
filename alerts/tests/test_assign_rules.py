import pytest

from alerts.exceptions import IncidentActionForbidden, IncidentInvalidInput
from alerts.services import incident_assign


@pytest.fixture
def world(make_sensor, make_member, make_incident, make_site):
    sensor = make_sensor()
    site = sensor.site
    return {
        "incident": make_incident(sensor),
        "manager": make_member(site, "manager"),
        "operator": make_member(site, "operator"),
        "other_operator": make_member(site, "operator"),
        "viewer": make_member(site, "viewer"),
        "outsider": make_member(make_site(), "manager"),
    }


def test_manager_assigns_an_operator_and_the_timeline_says_so(world):
    incident = incident_assign(incident=world["incident"], user=world["manager"], assignee=world["operator"])

    assert incident.assignee == world["operator"]
    event = incident.events.last()
    assert (event.kind, event.actor, event.text) == (
        "assigned",
        world["manager"],
        f"Assigned to {world['operator'].username}.",
    )
    assert event.data["assignee"] == {"id": world["operator"].pk, "username": world["operator"].username}
    assert event.data["previous"] is None


def test_operator_takes_an_incident_and_gives_it_back(world):
    incident = incident_assign(incident=world["incident"], user=world["operator"], assignee=world["operator"])
    assert incident.assignee == world["operator"]

    incident = incident_assign(incident=incident, user=world["operator"], assignee=None)

    assert incident.assignee is None
    assert list(incident.events.values_list("kind", flat=True)) == ["opened", "assigned", "assigned"]


def test_operator_cannot_assign_someone_else(world):
    with pytest.raises(IncidentActionForbidden, match="only to themselves"):
        incident_assign(incident=world["incident"], user=world["operator"], assignee=world["other_operator"])


def test_operator_cannot_unassign_someone_else(world):
    incident_assign(incident=world["incident"], user=world["manager"], assignee=world["other_operator"])

    with pytest.raises(IncidentActionForbidden):
        incident_assign(incident=world["incident"], user=world["operator"], assignee=None)


@pytest.mark.parametrize("assignee", ["viewer", "outsider"])
def test_assignee_must_be_an_operator_or_manager_of_the_site(world, assignee):
    with pytest.raises(IncidentInvalidInput, match="only operators and managers") as refused:
        incident_assign(incident=world["incident"], user=world["manager"], assignee=world[assignee])

    assert refused.value.field == "assignee"
    world["incident"].refresh_from_db()
    assert world["incident"].assignee is None


def test_assigning_the_current_assignee_again_writes_nothing(world):
    incident_assign(incident=world["incident"], user=world["manager"], assignee=world["operator"])

    incident_assign(incident=world["incident"], user=world["manager"], assignee=world["operator"])

    assert world["incident"].events.filter(kind="assigned").count() == 1
