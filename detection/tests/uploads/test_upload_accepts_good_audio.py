"""A good upload is stored under a random name, answered 202 at once, and analysed after commit."""

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from detection.models import Recording, RecordingSource, RecordingStatus
from detection.tests.uploads.support import FAKE_MODEL_VERSION, audio_upload, stored_files, tone_wav
from sites.services import sensor_key_rotate

pytestmark = pytest.mark.django_db

URL = "/api/v1/recordings/"


def test_upload_by_an_operator_is_accepted_with_202_and_analysed(
    client_for, upload_world, inline_tasks, fake_engine, django_capture_on_commit_callbacks
):
    data = tone_wav(6.0, channels=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(upload_world.operator).post(
            URL,
            {"file": audio_upload(data, name="../../etc/Front Door.wav"), "sensor": upload_world.sensor.pk},
            format="multipart",
        )

    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"/api/v1/recordings/{body['id']}/")
    recording = Recording.objects.get(pk=body["id"])
    assert recording.status == RecordingStatus.DONE
    assert recording.model_version == FAKE_MODEL_VERSION
    assert recording.attempts == 1
    assert recording.error == ""
    assert recording.site == upload_world.own
    assert recording.sensor == upload_world.sensor
    assert recording.uploaded_by == upload_world.operator
    assert recording.source == RecordingSource.UPLOAD
    assert recording.original_name == "Front Door.wav"
    assert recording.checksum_sha256 == hashlib.sha256(data).hexdigest()
    assert recording.size_bytes == len(data)
    assert (recording.container, recording.codec) == ("wav", "pcm_s16le")
    assert (recording.source_sample_rate, recording.channels) == (44_100, 2)
    assert recording.duration_s == pytest.approx(6.0, abs=0.01)
    assert recording.started_at and recording.finished_at

    # Stored under a dated random name, never the uploader's.
    assert re.fullmatch(r"recordings/\d{4}/\d{2}/\d{2}/[0-9a-f]{32}\.wav", recording.file.name)
    assert (Path(django_settings.MEDIA_ROOT) / recording.file.name).read_bytes() == data
    assert not any("Front" in path.name for path in stored_files(django_settings.MEDIA_ROOT))


def test_upload_answers_before_analysis_when_tasks_run_later(client_for, upload_world, settings, monkeypatch):
    dispatched = []
    monkeypatch.setattr("outcry.tasking.dispatch", lambda task, *args, **kwargs: dispatched.append((task.name, args)))

    response = client_for(upload_world.manager).post(
        URL, {"file": audio_upload(), "sensor": upload_world.sensor.pk}, format="multipart"
    )

    assert response.status_code == 202
    assert response.json()["status"] == RecordingStatus.QUEUED
    # The test's transaction never commits, so nothing was dispatched: enqueue waits for commit.
    assert dispatched == []


def test_upload_with_a_sensor_key_implies_the_sensor(upload_world, inline_tasks, fake_engine):
    key = sensor_key_rotate(sensor=upload_world.sensor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = client.post(URL, {"file": audio_upload(), "recorded_at": "2026-01-02T03:04:05Z"}, format="multipart")

    assert response.status_code == 202, response.content
    recording = Recording.objects.get(pk=response.json()["id"])
    assert recording.sensor == upload_world.sensor
    assert recording.uploaded_by is None
    assert recording.recorded_at.isoformat() == "2026-01-02T03:04:05+00:00"


def test_upload_with_a_sensor_key_may_name_its_own_sensor(upload_world):
    client = APIClient()
    client.credentials(HTTP_X_SENSOR_KEY=sensor_key_rotate(sensor=upload_world.sensor))

    response = client.post(URL, {"file": audio_upload(), "sensor": upload_world.sensor.pk}, format="multipart")

    assert response.status_code == 202, response.content
