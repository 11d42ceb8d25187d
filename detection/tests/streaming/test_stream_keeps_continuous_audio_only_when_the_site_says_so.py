"""Privacy: continuous stream audio is kept only for sites with ``keep_stream_audio`` on."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from detection.models import Recording, RecordingSource
from detection.streaming import consumer
from detection.tests.streaming.helpers import connect_and_hello, hello, quiet, send_audio
from sites.services import site_update

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _stream_quietly(key: str, *pieces_s: float) -> None:
    communicator, _ready = await connect_and_hello(hello(key))
    for seconds in pieces_s:
        await send_audio(communicator, quiet(seconds))
        await asyncio.sleep(0.3)
    await communicator.disconnect()


async def test_nothing_is_kept_by_default(stream_world):
    await _stream_quietly(stream_world.key, 3.0)
    assert await sync_to_async(Recording.objects.count)() == 0


async def test_sites_that_keep_stream_audio_get_it_in_pieces(stream_world, monkeypatch):
    monkeypatch.setattr(consumer, "KEEP_AUDIO_SEGMENT_S", 2.0)
    await sync_to_async(site_update)(site=stream_world.site, data={"keep_stream_audio": True})
    await _stream_quietly(stream_world.key, 2.2, 0.8)
    kept = await sync_to_async(list)(Recording.objects.filter(source=RecordingSource.STREAM).order_by("recorded_at"))
    assert len(kept) == 2  # one full piece, and the rest at disconnect
    assert [recording.duration_s for recording in kept] == pytest.approx([2.2, 0.8], abs=0.01)
    assert await sync_to_async(Recording.objects.filter(detections__isnull=False).count)() == 0
