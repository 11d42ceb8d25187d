"""A paused or retired site takes no live audio, as it takes no uploads: its sensors' hellos are
closed with 4403 (retry later), an open stream closes within the key recheck, and the sensors that
go quiet because of it turn offline without emailing the managers who paused the site."""

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core import mail
from django.utils import timezone

from detection.streaming.consumer import SensorStreamConsumer
from detection.streaming.protocol import CloseCode
from detection.streaming.services import sensors_mark_offline
from detection.tests.streaming.helpers import connect_and_hello, expect_close, hello, loud, pcm16, send_hello
from sites.models import Sensor, SiteStatus
from sites.services import site_update


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("status", [SiteStatus.PAUSED, SiteStatus.RETIRED])
async def test_hello_of_a_sensor_at_an_inactive_site_is_closed_4403(stream_world, status):
    await sync_to_async(site_update)(site=stream_world.site, data={"status": status})
    communicator = await send_hello(hello(stream_world.key))
    reason = await expect_close(communicator, CloseCode.SITE_INACTIVE)
    assert reason == f"the site 'Gym site' is {status.label.lower()}; it takes no audio until it is active again"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_site_paused_while_streaming_closes_4403_and_resuming_lets_it_back(stream_world, monkeypatch):
    monkeypatch.setattr(SensorStreamConsumer, "key_recheck_s", 0.3)
    communicator, ready = await connect_and_hello(hello(stream_world.key))
    assert json.loads(ready["text"])["type"] == "ready"
    await communicator.send_to(bytes_data=pcm16(loud(0.1)))

    await sync_to_async(site_update)(site=stream_world.site, data={"status": SiteStatus.PAUSED})
    assert "is paused" in await expect_close(communicator, CloseCode.SITE_INACTIVE)

    await sync_to_async(site_update)(site=stream_world.site, data={"status": SiteStatus.ACTIVE})
    communicator, ready = await connect_and_hello(hello(stream_world.key))
    assert json.loads(ready["text"])["type"] == "ready"
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
def test_sensor_of_a_paused_site_turns_offline_without_emailing_its_managers(stream_world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    site_update(site=stream_world.site, data={"status": SiteStatus.PAUSED})
    long_ago = timezone.now() - timedelta(seconds=settings.SENSOR_OFFLINE_AFTER_S + 1)
    Sensor.objects.filter(pk=stream_world.sensor.pk).update(last_seen=long_ago, level_dbfs=-40.0)

    assert sensors_mark_offline() == [stream_world.sensor.pk]
    assert Sensor.objects.get(pk=stream_world.sensor.pk).level_dbfs is None
    assert mail.outbox == []
