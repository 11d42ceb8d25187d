"""Who may do what to incidents and notification channels, on their own site and on another.

Roles, in ``ROLES`` order: anonymous, none (signed in, no membership), viewer / operator /
manager of the own site, admin. An incident on a site you cannot see is 404; seen but not allowed
(viewers acting) is 403; the workflow's state refusals (reopening an open incident) are 409 and
come only after the role check. Notification channels are visible to managers only.
"""

import pytest

from alerts.models import Incident, IncidentEvent, NotificationChannel
from alerts.notifications.services import notification_channel_create
from outcry.tests.api_matrix import Row, assert_row, matrix_params, statuses

#                   anonymous none viewer operator manager admin
EVERYONE_SIGNED_IN = statuses(401, 200, 200, 200, 200, 200)
READ_OWN = statuses(401, 404, 200, 200, 200, 200)
READ_OTHER = statuses(401, 404, 404, 404, 404, 200)
ACT_OWN = statuses(401, 404, 403, 200, 200, 200)
ACT_OTHER = statuses(401, 404, 404, 404, 404, 200)
REOPEN_OPEN_OWN = statuses(401, 404, 403, 409, 409, 409)
REOPEN_OPEN_OTHER = statuses(401, 404, 404, 404, 404, 409)
MANAGE_OWN = statuses(401, 404, 404, 404, 200, 200)
MANAGE_OTHER = statuses(401, 404, 404, 404, 404, 200)
DELETE_OWN = statuses(401, 404, 404, 404, 204, 204)
DELETE_OTHER = statuses(401, 404, 404, 404, 404, 204)
CREATE_OWN = statuses(401, 403, 403, 403, 201, 201)
# Who holds the manager role nowhere is refused before the body is read; a manager naming a site they
# cannot see gets the same 400 as for a site that does not exist.
CREATE_OTHER = statuses(401, 403, 403, 403, 400, 201)


def _incident(suffix=""):
    return lambda target: lambda w: f"/api/v1/incidents/{w.incident[target].pk}/{suffix}"


def _channel(suffix=""):
    return lambda target: lambda w: f"/api/v1/notification-channels/{w.channel[target].pk}/{suffix}"


def _both(action, method, url, own, other, body=None):
    return [Row(action, method, url("own"), "own", own, body), Row(action, method, url("other"), "other", other, body)]


ROWS = [
    Row("incident list", "get", lambda w: "/api/v1/incidents/", "-", EVERYONE_SIGNED_IN),
    Row("incident export", "get", lambda w: "/api/v1/incidents/export.csv", "-", EVERYONE_SIGNED_IN),
    *_both("incident retrieve", "get", _incident(), READ_OWN, READ_OTHER),
    *_both("incident events", "get", _incident("events/"), READ_OWN, READ_OTHER),
    *_both("incident acknowledge", "post", _incident("acknowledge/"), ACT_OWN, ACT_OTHER),
    *_both("incident assign", "post", _incident("assign/"), ACT_OWN, ACT_OTHER, lambda w: {"assignee": "me"}),
    *_both("incident annotate", "post", _incident("annotate/"), ACT_OWN, ACT_OTHER, lambda w: {"text": "Hi"}),
    *_both("incident hold", "post", _incident("hold/"), ACT_OWN, ACT_OTHER, lambda w: {"text": "Waiting"}),
    *_both("incident resolve", "post", _incident("resolve/"), ACT_OWN, ACT_OTHER, lambda w: {"resolution": "test"}),
    *_both("incident reopen", "post", _incident("reopen/"), REOPEN_OPEN_OWN, REOPEN_OPEN_OTHER),
    Row("channel list", "get", lambda w: "/api/v1/notification-channels/", "-", EVERYONE_SIGNED_IN),
    *_both("channel retrieve", "get", _channel(), MANAGE_OWN, MANAGE_OTHER),
    Row(
        "channel create",
        "post",
        lambda w: "/api/v1/notification-channels/",
        "own",
        CREATE_OWN,
        lambda w: {
            "site": w.own.pk,
            "kind": "email",
            "name": "Night desk",
            "recipients": ["desk@example.org"],
            "notify_on": ["new"],
        },
    ),
    Row(
        "channel create",
        "post",
        lambda w: "/api/v1/notification-channels/",
        "other",
        CREATE_OTHER,
        lambda w: {
            "site": w.other.pk,
            "kind": "email",
            "name": "Night desk",
            "recipients": ["desk@example.org"],
            "notify_on": ["new"],
        },
    ),
    *_both("channel update", "patch", _channel(), MANAGE_OWN, MANAGE_OTHER, lambda w: {"enabled": False}),
    *_both("channel rotate-secret", "post", _channel("rotate-secret/"), MANAGE_OWN, MANAGE_OTHER),
    *_both("channel delete", "delete", _channel(), DELETE_OWN, DELETE_OTHER),
    Row("delivery list", "get", lambda w: "/api/v1/notification-deliveries/", "-", EVERYONE_SIGNED_IN),
]


@pytest.fixture
def world(site_world):
    site_world.channel = {
        name: notification_channel_create(
            site=site, kind="webhook", name="Hook", url="https://hooks.example.org/x", notify_on=["new"]
        )
        for name, site in (("own", site_world.own), ("other", site_world.other))
    }
    return site_world


def snapshot():
    return (
        list(Incident.objects.order_by("pk").values()),
        list(IncidentEvent.objects.order_by("pk").values()),
        list(NotificationChannel.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize(("row", "role"), matrix_params(ROWS))
def test_permission_matrix(world, client_for, row, role):
    assert_row(client=client_for(world.actors[role]), row=row, role=role, world=world, snapshot=snapshot)


def test_lists_show_only_the_sites_you_belong_to(world, client_for):
    for role in ("viewer", "operator", "manager"):
        body = client_for(world.actors[role]).get("/api/v1/incidents/").json()
        assert [item["id"] for item in body["results"]] == [world.incident["own"].pk]
    assert client_for(world.actors["none"]).get("/api/v1/incidents/").json()["results"] == []
    assert client_for(world.actors["admin"]).get("/api/v1/incidents/").json()["count"] == 2
    assert [
        c["id"] for c in client_for(world.actors["manager"]).get("/api/v1/notification-channels/").json()["results"]
    ] == [world.channel["own"].pk]
    assert client_for(world.actors["operator"]).get("/api/v1/notification-channels/").json()["results"] == []
