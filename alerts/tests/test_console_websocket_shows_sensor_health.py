"""Consoles receive the online/offline state and level of their sites' sensors, and nobody else's."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from alerts.tests.console import connected_console, fresh_channel_layer  # noqa: F401
from detection.streaming.services import sensor_heartbeat, sensor_status_message, site_sensors_group

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("fresh_channel_layer"),
]


async def _announce(sensor_id: int, level_dbfs: float) -> None:
    sensor = await sync_to_async(sensor_heartbeat)(sensor_id=sensor_id, level_dbfs=level_dbfs)
    await get_channel_layer().group_send(site_sensors_group(sensor.site_id), sensor_status_message(sensor))


async def test_console_receives_its_sensors_status_and_not_other_sites(make_site, make_sensor, make_member):
    mine, theirs = await sync_to_async(make_site)("Mine"), await sync_to_async(make_site)("Theirs")
    my_mic = await sync_to_async(make_sensor)(mine, "My mic")
    their_mic = await sync_to_async(make_sensor)(theirs, "Their mic")
    viewer = await sync_to_async(make_member)(mine, "viewer")
    console, _hello = await connected_console(viewer)

    await _announce(their_mic.pk, -30.0)
    await _announce(my_mic.pk, -24.5)

    message = await console.receive_json_from(timeout=5)
    assert message["type"] == "sensor.status"
    assert message["sensor"]["id"] == my_mic.pk
    assert message["sensor"]["status"] == "online"
    assert message["sensor"]["level_dbfs"] == -24.5
    assert await console.receive_nothing(timeout=0.3)
    await console.disconnect()
