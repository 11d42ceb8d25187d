"""End to end with the real ONNX engine (a tiny model): upload → task → detections → signal."""

import io

import pytest
import soundfile

from detection.features import SAMPLE_RATE
from detection.models import Detection, Recording, RecordingStatus
from detection.tests.conftest import burst_signal
from detection.tests.uploads.support import audio_upload

pytestmark = pytest.mark.django_db


def test_a_loud_burst_in_an_upload_becomes_one_detection(
    client_for, upload_world, inline_tasks, tiny_model, settings, stored_signals, django_capture_on_commit_callbacks
):
    settings.DETECTION_MODEL_PATH = str(tiny_model)
    buffer = io.BytesIO()
    soundfile.write(buffer, burst_signal(8.0, [(3.0, 4.5)]), SAMPLE_RATE, format="WAV", subtype="PCM_16")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(upload_world.operator).post(
            "/api/v1/recordings/",
            {"file": audio_upload(buffer.getvalue()), "sensor": upload_world.sensor.pk},
            format="multipart",
        )

    assert response.status_code == 202
    recording = Recording.objects.get(pk=response.json()["id"])
    assert recording.status == RecordingStatus.DONE, recording.error
    assert recording.model_version == "test-tiny-1"
    detection = Detection.objects.get()
    assert 2.0 <= detection.start_s <= 3.0
    assert 4.5 <= detection.end_s <= 5.5
    assert detection.peak_score > 0.9
    assert detection.evidence_clip and detection.spectrogram
    assert [[d.pk for d in sent] for _, sent in stored_signals] == [[detection.pk]]
