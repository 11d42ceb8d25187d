"""One connection per sensor: a reconnect closes the previous connection (4409) and starts afresh."""

import json

import pytest

from detection.streaming.protocol import CloseCode
from detection.tests.streaming.helpers import (
    connect_and_hello,
    expect_close,
    hello,
    quiet,
    receive_json_of_type,
    send_audio,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_a_second_connection_of_the_same_sensor_replaces_the_first(stream_world):
    first, _ready = await connect_and_hello(hello(stream_world.key))
    await send_audio(first, quiet(2))
    second, ready = await connect_and_hello(hello(stream_world.key))
    assert json.loads(ready["text"])["type"] == "ready"
    assert "replaced" in await expect_close(first, CloseCode.REPLACED)

    await send_audio(second, quiet(1.2))  # one window's worth
    status = await receive_json_of_type(second, "status")
    while status["windows_scored"] < 1:
        status = await receive_json_of_type(second, "status")
    assert status["windows_scored"] == 1  # a fresh buffer: only the new connection's audio
    await second.disconnect()
