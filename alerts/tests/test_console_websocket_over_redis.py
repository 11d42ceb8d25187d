"""The broadcast reaches a console websocket through the real Redis channel layer (REDIS_URL)."""

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from alerts.services import incident_acknowledge, incident_raise_or_extend
from alerts.tests.console import connected_console, fresh_channel_layer, next_incident_message  # noqa: F401

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("fresh_channel_layer"),
]


async def test_new_incident_and_its_acknowledgement_reach_the_console_over_redis(
    make_sensor, make_member, make_detection
):
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    sensor = await sync_to_async(make_sensor)()
    operator = await sync_to_async(make_member)(sensor.site, "operator")
    communicator, hello = await connected_console(operator)
    assert hello["sites"][0]["id"] == sensor.site_id

    detection = await sync_to_async(make_detection)(sensor, peak_score=0.96)
    incident = await sync_to_async(incident_raise_or_extend)(detection=detection)

    opened = await next_incident_message(communicator, timeout=10)
    assert (opened["incident"]["id"], opened["event"]["kind"]) == (incident.pk, "opened")
    assert opened["incident"]["allowed_actions"] == ["acknowledge", "assign", "annotate", "hold", "resolve"]

    await sync_to_async(incident_acknowledge)(incident=incident, user=operator)
    acknowledged = await next_incident_message(communicator, timeout=10)
    assert acknowledged["incident"]["status"] == "acknowledged"
    assert acknowledged["event"]["actor"]["id"] == operator.pk
    await communicator.disconnect()
