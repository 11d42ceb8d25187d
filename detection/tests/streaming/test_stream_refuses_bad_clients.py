"""Every protocol violation is refused with its close code and a reason in words."""

import json

import numpy as np
import pytest
from asgiref.sync import sync_to_async

from detection.streaming.protocol import CloseCode
from detection.tests.streaming.helpers import (
    connect_and_hello,
    expect_close,
    hello,
    loud,
    open_stream,
    pcm16,
    send_hello,
)
from sites.services import sensor_key_revoke, sensor_update

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_no_hello_within_the_deadline_is_closed_4408(stream_world):
    communicator = open_stream()
    assert (await communicator.connect())[0]
    assert "no hello" in await expect_close(communicator, CloseCode.HELLO_TIMEOUT)


async def test_audio_before_the_hello_is_closed_4400(stream_world):
    communicator = open_stream()
    await communicator.connect()
    await communicator.send_to(bytes_data=b"\x00\x00" * 100)
    assert "hello" in await expect_close(communicator, CloseCode.BAD_MESSAGE)


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"key": "osk_nothing_here"}, CloseCode.UNAUTHORIZED, "sensor key"),
        ({"key": None}, CloseCode.UNAUTHORIZED, "no sensor key"),
        ({"sample_rate": 96000}, CloseCode.BAD_MESSAGE, "sample_rate"),
        ({"sample_rate": 4000}, CloseCode.BAD_MESSAGE, "sample_rate"),
        ({"sample_rate": "16000"}, CloseCode.BAD_MESSAGE, "sample_rate"),
        ({"format": "mp3"}, CloseCode.BAD_MESSAGE, "format"),
        ({"channels": 6}, CloseCode.BAD_MESSAGE, "channels"),
        ({"type": "hi"}, CloseCode.BAD_MESSAGE, "hello"),
        ({"token": "not-a-signed-token", "key": None}, CloseCode.UNAUTHORIZED, "sensor key"),
    ],
)
async def test_bad_hello_is_refused(stream_world, fields, code, words):
    message = {key: value for key, value in (hello(stream_world.key) | fields).items() if value is not None}
    communicator = await send_hello(message)
    assert words in await expect_close(communicator, code)


async def test_hello_that_is_not_json_is_refused(stream_world):
    communicator = open_stream()
    await communicator.connect()
    await communicator.send_to(text_data="hello there")
    assert "JSON" in await expect_close(communicator, CloseCode.BAD_MESSAGE)


async def test_revoked_key_is_refused(stream_world):
    await sync_to_async(sensor_key_revoke)(sensor=stream_world.sensor)
    communicator = await send_hello(hello(stream_world.key))
    await expect_close(communicator, CloseCode.UNAUTHORIZED)


async def test_disabled_sensor_is_refused(stream_world):
    await sync_to_async(sensor_update)(sensor=stream_world.sensor, data={"enabled": False})
    communicator = await send_hello(hello(stream_world.key))
    await expect_close(communicator, CloseCode.UNAUTHORIZED)


async def test_oversized_frame_is_closed_4413(stream_world):
    communicator, ready = await connect_and_hello(hello(stream_world.key))
    assert json.loads(ready["text"])["max_frame_bytes"] == 32000
    await communicator.send_to(bytes_data=b"\x00" * 32002)
    assert "limit is 32000" in await expect_close(communicator, CloseCode.FRAME_TOO_BIG)


async def test_frame_of_partial_samples_is_closed_4400(stream_world):
    communicator, _ = await connect_and_hello(hello(stream_world.key, format="f32le"))
    await communicator.send_to(bytes_data=b"\x00" * 6)
    assert "whole f32le samples" in await expect_close(communicator, CloseCode.BAD_MESSAGE)


async def test_sustained_flood_is_closed_4429(stream_world):
    communicator, _ = await connect_and_hello(hello(stream_world.key))
    second = pcm16(np.zeros(16000, np.float32))
    for _ in range(20):  # 20 s of audio at once: past the 12-s burst allowance
        await communicator.send_to(bytes_data=second)
    assert "real time" in await expect_close(communicator, CloseCode.FLOOD)


async def test_key_revoked_while_streaming_closes_4401(stream_world, monkeypatch):
    from detection.streaming.consumer import SensorStreamConsumer

    monkeypatch.setattr(SensorStreamConsumer, "key_recheck_s", 0.3)
    communicator, ready = await connect_and_hello(hello(stream_world.key))
    assert json.loads(ready["text"])["type"] == "ready"
    await communicator.send_to(bytes_data=pcm16(loud(0.1)))
    await sync_to_async(sensor_key_revoke)(sensor=stream_world.sensor)
    assert "revoked" in await expect_close(communicator, CloseCode.UNAUTHORIZED)
