"""While audio arrives the sensor's last_seen and level are stored and broadcast to its site's
consoles; a sensor that goes quiet is announced offline once, and its site's managers get an email."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core import mail
from django.utils import timezone

from detection.streaming.services import sensors_mark_offline, site_sensors_group
from detection.streaming.tasks import mark_offline_sensors
from detection.tests.streaming.helpers import (
    connect_and_hello,
    hello,
    noise_at,
    send_audio,
)
from outcry import realtime
from sites.models import Sensor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.asyncio
async def test_streaming_updates_last_seen_and_level_and_tells_the_console(stream_world):
    layer = get_channel_layer()
    console = await layer.new_channel()
    await layer.group_add(site_sensors_group(stream_world.site.pk), console)
    communicator, _ready = await connect_and_hello(hello(stream_world.key))
    await send_audio(communicator, noise_at(1.0, dbfs=-30))

    message = await asyncio.wait_for(layer.receive(console), timeout=5)
    assert message["type"] == "sensor.status"
    assert message["sensor"]["id"] == stream_world.sensor.pk
    assert message["sensor"]["status"] == "online"
    assert message["sensor"]["level_dbfs"] == pytest.approx(-30, abs=1.5)
    sensor = await sync_to_async(Sensor.objects.get)(pk=stream_world.sensor.pk)
    assert timezone.now() - sensor.last_seen < timedelta(seconds=5)
    assert sensor.level_dbfs == pytest.approx(-30, abs=1.5)
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_quiet_sensor_is_announced_offline_once(stream_world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    realtime.register_server_loop(asyncio.get_running_loop())
    layer = get_channel_layer()
    console = await layer.new_channel()
    await layer.group_add(site_sensors_group(stream_world.site.pk), console)
    long_ago = timezone.now() - timedelta(seconds=settings.SENSOR_OFFLINE_AFTER_S + 1)
    await sync_to_async(Sensor.objects.filter(pk=stream_world.sensor.pk).update)(last_seen=long_ago, level_dbfs=-40.0)

    announced = await sync_to_async(sensors_mark_offline, thread_sensitive=False)()
    assert announced == [stream_world.sensor.pk]
    message = await asyncio.wait_for(layer.receive(console), timeout=5)
    assert message["sensor"]["status"] == "offline" and message["sensor"]["level_dbfs"] is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [stream_world.manager.email]
    assert "Gym north" in mail.outbox[0].subject

    assert await sync_to_async(sensors_mark_offline, thread_sensitive=False)() == []  # once per transition
    assert len(mail.outbox) == 1
    realtime.register_server_loop(None)


def test_online_and_never_streamed_sensors_are_left_alone(stream_world, make_sensor):
    Sensor.objects.filter(pk=stream_world.sensor.pk).update(last_seen=timezone.now(), level_dbfs=-40.0)
    make_sensor(stream_world.site, "Upload only")  # never streamed: no level, never "went offline"
    assert mark_offline_sensors.apply().get() == []


def test_the_offline_sweep_runs_every_five_seconds():
    from outcry.celery import app

    entry = app.conf.beat_schedule["detection.mark-offline-sensors"]
    assert entry["task"] == mark_offline_sensors.name
    assert entry["schedule"] == 5.0
