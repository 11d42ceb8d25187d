"""The console websocket joins exactly the user's sites and forwards their incident changes."""

import pytest
from asgiref.sync import sync_to_async

from alerts.services import incident_acknowledge, incident_raise_or_extend
from alerts.tests.console import connected_console, fresh_channel_layer, next_incident_message  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("fresh_channel_layer"),
]


@pytest.fixture
def world(make_site, make_sensor, make_member, make_user):
    mine, theirs = make_site("Mine"), make_site("Theirs")
    viewer = make_member(mine, "viewer", user=make_user("vera"))
    return {
        "mine": mine,
        "theirs": theirs,
        "viewer": viewer,
        "operator": make_member(mine, "operator", user=make_user("otto")),
        "stranger_operator": make_member(theirs, "operator"),
        "my_mic": make_sensor(mine, "My mic"),
        "their_mic": make_sensor(theirs, "Their mic"),
    }


def _raise(make_detection, sensor, score=0.9):
    return incident_raise_or_extend(detection=make_detection(sensor, peak_score=score))


async def test_hello_lists_the_users_sites_and_roles(world):
    communicator, hello = await connected_console(world["operator"])

    assert hello == {"type": "hello", "sites": [{"id": world["mine"].pk, "name": "Mine", "role": "operator"}]}
    await communicator.disconnect()


async def test_user_receives_only_their_sites_incidents(world, make_detection):
    communicator, _hello = await connected_console(world["viewer"])

    await sync_to_async(_raise)(make_detection, world["their_mic"])
    mine = await sync_to_async(_raise)(make_detection, world["my_mic"], 0.97)

    message = await next_incident_message(communicator)
    assert message["incident"]["id"] == mine.pk
    assert message["incident"]["site"] == {"id": world["mine"].pk, "name": "Mine", "slug": world["mine"].slug}
    assert message["incident"]["priority"] == "critical"
    assert message["incident"]["allowed_actions"] == []  # a viewer
    assert message["event"]["kind"] == "opened" and message["event"]["actor"] is None
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_acknowledge_by_another_user_arrives_with_the_receivers_allowed_actions(world, make_detection):
    incident = await sync_to_async(_raise)(make_detection, world["my_mic"])
    watcher, _ = await connected_console(world["operator"])
    viewer, _ = await connected_console(world["viewer"])
    acknowledger = await sync_to_async(lambda: type(world["operator"]).objects.create_user("anna"))()
    await sync_to_async(lambda: world["mine"].memberships.create(user=acknowledger, role="manager"))()

    await sync_to_async(incident_acknowledge)(incident=incident, user=acknowledger)

    for communicator, actions in ((watcher, ["assign", "annotate", "hold", "resolve"]), (viewer, [])):
        message = await next_incident_message(communicator)
        assert message["incident"]["id"] == incident.pk
        assert message["incident"]["status"] == "acknowledged"
        assert message["incident"]["acknowledged_by"] == {"id": acknowledger.pk, "username": "anna"}
        assert message["incident"]["allowed_actions"] == actions
        event = message["event"]
        assert (event["kind"], event["actor"], event["from_status"], event["to_status"]) == (
            "acknowledged",
            {"id": acknowledger.pk, "username": "anna"},
            "new",
            "acknowledged",
        )
        assert event["created_at"]
        await communicator.disconnect()


async def test_ping_gets_pong_and_other_messages_are_ignored(world):
    communicator, _ = await connected_console(world["operator"])

    await communicator.send_json_to({"type": "subscribe", "site": world["theirs"].pk})
    await communicator.send_to(text_data="not json")
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.send_json_to({"type": "ping"})

    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()


async def test_platform_admin_joins_every_site(world, make_user, make_detection):
    admin = await sync_to_async(make_user)(is_staff=True)
    communicator, hello = await connected_console(admin)

    assert {site["id"] for site in hello["sites"]} == {world["mine"].pk, world["theirs"].pk}
    incident = await sync_to_async(_raise)(make_detection, world["their_mic"])
    message = await next_incident_message(communicator)
    assert message["incident"]["id"] == incident.pk
    assert message["incident"]["allowed_actions"] == ["acknowledge", "assign", "annotate", "hold", "resolve"]
    await communicator.disconnect()
