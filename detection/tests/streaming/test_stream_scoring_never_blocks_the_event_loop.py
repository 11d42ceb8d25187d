"""Scoring runs off the event loop: with a slow engine, pings are answered at once, and windows
that cannot be scored in time are dropped (oldest first) and counted instead of piling up."""

import asyncio
import json
import time

import numpy as np
import pytest

from detection.tests.streaming.helpers import (
    connect_and_hello,
    hello,
    quiet,
    receive_json_of_type,
    send_audio,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_pings_are_answered_while_a_slow_engine_scores(stream_world, slow_engine):
    engine = slow_engine(0.8)
    communicator, _ready = await connect_and_hello(hello(stream_world.key))
    await send_audio(communicator, quiet(3))
    while engine.started < 2 or engine.started == len(engine.batches):  # past the warm-up, a batch in flight
        await asyncio.sleep(0.01)
    finished_before = len(engine.batches)
    round_trips = []
    for number in range(5):
        sent = time.monotonic()
        await communicator.send_to(text_data=json.dumps({"type": "ping", "t": number}))
        pong = await receive_json_of_type(communicator, "pong")
        round_trips.append(time.monotonic() - sent)
        assert pong["t"] == number
    assert len(engine.batches) == finished_before, "the engine was still busy scoring meanwhile"
    assert max(round_trips) < 0.3, round_trips
    await communicator.disconnect()


async def test_a_backlog_beyond_the_queue_is_dropped_and_reported(stream_world, slow_engine):
    slow_engine(1.5)
    communicator, _ready = await connect_and_hello(hello(stream_world.key))
    # 11 s at once (inside the burst allowance): 20 windows for a 16-window queue while a batch is scored.
    await send_audio(communicator, np.concatenate([quiet(5.5), quiet(5.5, seed=3)]))
    status = await receive_json_of_type(communicator, "status")
    while status["dropped_windows"] == 0:
        status = await receive_json_of_type(communicator, "status")
    assert status["dropped_windows"] >= 1
    assert status["pending_windows"] <= 16
    await communicator.disconnect()
