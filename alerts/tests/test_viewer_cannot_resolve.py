"""Only operators and managers act; viewers and strangers are refused before anything changes."""

import pytest

from alerts.exceptions import IncidentActionForbidden
from alerts.models import IncidentEvent
from alerts.services import (
    incident_acknowledge,
    incident_annotate,
    incident_assign,
    incident_hold,
    incident_reopen,
    incident_resolve,
)

ACTIONS = {
    "acknowledge": lambda incident, user: incident_acknowledge(incident=incident, user=user),
    "assign": lambda incident, user: incident_assign(incident=incident, user=user, assignee=user),
    "annotate": lambda incident, user: incident_annotate(incident=incident, user=user, text="hello"),
    "hold": lambda incident, user: incident_hold(incident=incident, user=user, text="x"),
    "resolve": lambda incident, user: incident_resolve(incident=incident, user=user, resolution="test"),
    "reopen": lambda incident, user: incident_reopen(incident=incident, user=user),
}


@pytest.mark.parametrize("who", ["viewer", "member of another site"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_viewers_and_strangers_cannot_act(make_site, make_sensor, make_member, make_incident, who, action):
    sensor = make_sensor()
    user = make_member(sensor.site if who == "viewer" else make_site(), "viewer" if who == "viewer" else "manager")
    incident = make_incident(sensor)

    with pytest.raises(IncidentActionForbidden, match="You need the operator role"):
        ACTIONS[action](incident, user)

    incident.refresh_from_db()
    assert incident.status == "new"
    assert IncidentEvent.objects.filter(incident=incident).count() == 1


def test_viewer_cannot_resolve(make_sensor, make_member, make_incident):
    sensor = make_sensor()
    viewer = make_member(sensor.site, "viewer")
    incident = make_incident(sensor)

    with pytest.raises(IncidentActionForbidden, match=r"\(you are a viewer\)"):
        incident_resolve(incident=incident, user=viewer, resolution="false_alarm")


def test_platform_admins_act_everywhere(make_user, make_incident):
    admin = make_user(is_staff=True)

    incident = incident_resolve(incident=make_incident(), user=admin, resolution="test")

    assert incident.resolved_by == admin
