"""A scream in a live stream is stored like an upload's: a stream segment with pre-roll, its
detection with evidence, and an incident raised by the alerts through ``detections_stored``."""

import asyncio
import json

import numpy as np
import pytest
from asgiref.sync import sync_to_async

from detection.models import Detection, Recording, RecordingSource, RecordingStatus
from detection.selectors import sensor_threshold
from detection.streaming.services import read_wav
from detection.tests.streaming.helpers import (
    connect_and_hello,
    hello,
    loud,
    quiet,
    receive_json_of_type,
    send_audio,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _wait_for(predicate, timeout: float = 20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await sync_to_async(predicate)()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return result


def _done_segment():
    return Recording.objects.filter(source=RecordingSource.STREAM, status=RecordingStatus.DONE).first()


async def test_streamed_scream_is_stored_with_pre_roll_and_raises_an_incident(stream_world):
    communicator, ready = await connect_and_hello(hello(stream_world.key, sample_rate=48000))
    assert json.loads(ready["text"])["sensor"] == {
        "id": stream_world.sensor.pk,
        "name": "Gym north",
        "site": stream_world.site.pk,
    }
    signal = np.concatenate([quiet(5, sample_rate=48000), loud(2, sample_rate=48000), quiet(4, sample_rate=48000)])
    await send_audio(communicator, signal[: 48000 * 7], sample_rate=48000)
    # The alert is raised while the scream goes on: before the post-roll has even been sent.
    detection = await _wait_for(lambda: Detection.objects.select_related("recording").first())
    assert detection.recording.status == RecordingStatus.PROCESSING
    await send_audio(communicator, signal[48000 * 7 :], sample_rate=48000)

    recording = await _wait_for(_done_segment)
    detection = await sync_to_async(Detection.objects.get)(recording=recording)
    assert recording.sensor_id == stream_world.sensor.pk and recording.site_id == stream_world.site.pk
    # The first loud window starts at 4.5 s (it overlaps the scream at 5 s); 3 s of pre-roll before it.
    assert detection.start_s == pytest.approx(3.0)
    assert detection.peak_score > 0.9
    assert 2.0 <= detection.end_s - detection.start_s <= 3.5
    assert recording.duration_s == pytest.approx(detection.end_s + 2.0, abs=0.01)
    audio = await sync_to_async(read_wav)(recording.file.name)
    assert audio.size == pytest.approx(recording.duration_s * 16000, abs=2)
    pre_roll = audio[: int(detection.start_s * 16000)]
    assert np.sqrt(np.mean(pre_roll**2)) < 1e-3  # the quiet before the scream is in the segment
    assert detection.evidence_clip.name
    await _wait_for(lambda: Detection.objects.exclude(spectrogram="").exists())

    status = await receive_json_of_type(communicator, "status")
    while max(status["scores"], default=0) < 0.9:  # the loud windows reach the client in a status message
        status = await receive_json_of_type(communicator, "status")
    await communicator.disconnect()

    from alerts.models import Incident

    incident = await sync_to_async(Incident.objects.get)(sensor=stream_world.sensor)
    assert incident.site_id == stream_world.site.pk
    assert await sync_to_async(lambda: list(incident.detections.values_list("pk", flat=True)))() == [detection.pk]


async def test_disconnect_mid_scream_completes_the_segment_with_what_arrived(stream_world):
    communicator, _ready = await connect_and_hello(hello(stream_world.key))
    await send_audio(communicator, np.concatenate([quiet(4), loud(3)]))
    await _wait_for(lambda: Detection.objects.exists())
    await communicator.disconnect()
    recording = await _wait_for(_done_segment)
    assert recording.duration_s == pytest.approx(3.0 + 3.5, abs=0.6)


async def test_scream_just_before_a_hang_up_is_still_stored(stream_world):
    """A device that screams and then drops (smashed, unplugged): its last windows are still scored."""
    communicator, _ready = await connect_and_hello(hello(stream_world.key))
    await send_audio(communicator, np.concatenate([quiet(3), loud(0.8)]))
    await communicator.disconnect()

    detection = await _wait_for(lambda: Detection.objects.select_related("recording__sensor__site").first())
    assert detection.recording.source == RecordingSource.STREAM
    assert detection.peak_score >= sensor_threshold(detection.recording.sensor)


async def test_quiet_stream_stores_nothing(stream_world):
    communicator, _ready = await connect_and_hello(hello(stream_world.key))
    await send_audio(communicator, quiet(6))
    status = await receive_json_of_type(communicator, "status")
    while status["windows_scored"] < 9:
        status = await receive_json_of_type(communicator, "status")
    assert max(status["scores"]) < 0.1
    await communicator.disconnect()
    assert await sync_to_async(Recording.objects.count)() == 0
