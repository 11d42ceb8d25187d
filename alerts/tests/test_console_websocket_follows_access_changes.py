"""An open console stops seeing what its user may no longer see: lost sites, new roles, sign-outs."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.utils import timezone

from alerts.consumers import ACCESS_CHANGED, UNAUTHENTICATED, ConsoleConsumer
from alerts.services import incident_raise_or_extend
from alerts.tests.console import browser_console, connected_console, fresh_channel_layer  # noqa: F401 (fixture)
from sites.models import Membership
from sites.services import membership_create, membership_delete, membership_update

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("fresh_channel_layer"),
]

CLOSED_ACCESS_CHANGED = {"type": "websocket.close", "code": ACCESS_CHANGED}
CLOSED_UNAUTHENTICATED = {"type": "websocket.close", "code": UNAUTHENTICATED}


@pytest.fixture
def world(make_site, make_member, make_user, make_sensor):
    north, south = make_site("North"), make_site("South")
    operator = make_member(north, "operator", user=make_user("otto"))
    return {
        "north": north,
        "south": south,
        "operator": operator,
        "membership": Membership.objects.get(user=operator, site=north),
        "north_mic": make_sensor(north, "North mic"),
    }


async def test_removed_from_the_site_closes_with_access_changed_and_gets_nothing_more(world, make_detection):
    communicator, _ = await connected_console(world["operator"])

    await sync_to_async(membership_delete)(membership=world["membership"])

    assert await communicator.receive_output(timeout=5) == CLOSED_ACCESS_CHANGED
    await sync_to_async(lambda: incident_raise_or_extend(detection=make_detection(world["north_mic"])))()
    reconnected, hello = await connected_console(world["operator"])
    assert hello["sites"] == []
    assert await reconnected.receive_nothing(timeout=0.3)
    await reconnected.disconnect()


async def test_role_change_closes_and_the_reconnect_gets_the_new_role(world):
    communicator, _ = await connected_console(world["operator"])

    await sync_to_async(membership_update)(membership=world["membership"], role="viewer")

    assert await communicator.receive_output(timeout=5) == CLOSED_ACCESS_CHANGED
    reconnected, hello = await connected_console(world["operator"])
    assert hello["sites"] == [{"id": world["north"].pk, "name": "North", "role": "viewer"}]
    await reconnected.disconnect()


async def test_added_to_another_site_closes_so_the_reconnect_joins_it(world):
    communicator, _ = await connected_console(world["operator"])

    await sync_to_async(membership_create)(user=world["operator"], site=world["south"], role="manager")

    assert await communicator.receive_output(timeout=5) == CLOSED_ACCESS_CHANGED
    reconnected, hello = await connected_console(world["operator"])
    assert [site["name"] for site in hello["sites"]] == ["North", "South"]
    await reconnected.disconnect()


async def test_deactivated_user_is_closed_as_unauthenticated(world):
    communicator, _ = await connected_console(world["operator"])
    user = world["operator"]
    user.is_active = False

    await sync_to_async(user.save)()

    assert await communicator.receive_output(timeout=5) == CLOSED_UNAUTHENTICATED


async def test_changes_that_keep_the_access_leave_the_socket_open(world, make_member):
    communicator, _ = await connected_console(world["operator"])
    user = world["operator"]
    user.last_login = timezone.now()

    await sync_to_async(user.save)(update_fields=["last_login"])  # every sign-in stamps it
    await sync_to_async(user.save)()  # saved, but nothing the console shows changed
    await sync_to_async(make_member)(world["north"], "viewer")  # someone else's membership

    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()


async def _browser_console(user):
    client, communicator = await browser_console(user)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return client, communicator


async def test_signing_out_in_another_tab_closes_the_console_at_once(world):
    client, communicator = await _browser_console(world["operator"])

    await sync_to_async(client.logout)()

    assert await communicator.receive_output(timeout=5) == CLOSED_UNAUTHENTICATED


async def test_a_session_that_ends_silently_is_closed_by_the_periodic_check(world, monkeypatch):
    monkeypatch.setattr(ConsoleConsumer, "access_recheck_s", 0.2)
    _client, communicator = await _browser_console(world["operator"])
    assert await communicator.receive_nothing(timeout=0.5)  # still signed in: rechecks pass quietly

    # Expiry or an administrator clearing sessions sends no signal.
    await sync_to_async(Session.objects.all().delete)()

    assert await communicator.receive_output(timeout=5) == CLOSED_UNAUTHENTICATED


async def test_a_failed_check_keeps_the_console_open_and_the_next_one_runs(world, monkeypatch):
    monkeypatch.setattr(ConsoleConsumer, "access_recheck_s", 0.1)
    calls = []

    async def database_down(self):
        calls.append(1)
        raise OperationalError("the database is restarting")

    monkeypatch.setattr(ConsoleConsumer, "_current_user", database_down)
    communicator, _ = await connected_console(world["operator"])

    assert await communicator.receive_nothing(timeout=0.5)
    assert len(calls) >= 2  # checks go on after a failure
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()
