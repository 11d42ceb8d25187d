"""Recordings, detections and their files are visible only to members of the recording's site."""

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from detection.models import Detection, Recording, RecordingStatus
from detection.services import recording_analyze, recording_create
from detection.tests.uploads.support import audio_upload, tone_wav

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed(upload_world, fake_engine):
    """An analysed recording (one detection) at each site."""
    own = recording_create(file=audio_upload(tone_wav(6.0)), sensor=upload_world.sensor)
    other = recording_create(file=audio_upload(tone_wav(6.0, seed=1)), sensor=upload_world.other_sensor)
    for recording in (own, other):
        recording_analyze(recording_id=recording.pk)
    return own, other


def test_list_shows_only_recordings_of_your_sites(client_for, upload_world, analysed):
    own, _ = analysed

    response = client_for(upload_world.viewer).get("/api/v1/recordings/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [own.pk]
    row = response.json()["results"][0]
    assert row["status"] == RecordingStatus.DONE
    assert row["sensor_name"] == "Gym mic"
    assert f"/api/v1/recordings/{own.pk}/file/?v=" in row["file_url"]  # the URL names the file's version


def test_a_platform_admin_sees_every_recording(client_for, make_user, analysed):
    response = client_for(make_user(is_staff=True)).get("/api/v1/recordings/")

    assert sorted(row["id"] for row in response.json()["results"]) == sorted(r.pk for r in analysed)


def test_list_filters_by_status_sensor_and_creation_time(client_for, upload_world, analysed):
    client = client_for(upload_world.manager)

    assert client.get("/api/v1/recordings/", {"status": "done"}).json()["count"] == 1
    assert client.get("/api/v1/recordings/", {"status": "failed"}).json()["count"] == 0
    assert client.get("/api/v1/recordings/", {"sensor": upload_world.other_sensor.pk}).json()["count"] == 0
    assert client.get("/api/v1/recordings/", {"site": upload_world.own.pk, "source": "upload"}).json()["count"] == 1
    assert client.get("/api/v1/recordings/", {"created_after": "2999-01-01T00:00:00Z"}).json()["count"] == 0
    assert client.get("/api/v1/recordings/", {"status": "bogus"}).status_code == 400


def test_another_sites_recording_and_its_files_are_not_found(client_for, upload_world, analysed):
    _, other = analysed
    other_detection = Detection.objects.get(recording=other)
    client = client_for(upload_world.manager)

    for url in (
        f"/api/v1/recordings/{other.pk}/",
        f"/api/v1/recordings/{other.pk}/file/",
        f"/api/v1/recordings/{other.pk}/detections/",
        f"/api/v1/detections/{other_detection.pk}/",
        f"/api/v1/detections/{other_detection.pk}/clip/",
        f"/api/v1/detections/{other_detection.pk}/spectrogram/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found", url
    assert client.delete(f"/api/v1/recordings/{other.pk}/").status_code == 404
    assert Recording.objects.filter(pk=other.pk).exists()


def test_anonymous_and_sensor_keys_cannot_read_recordings(upload_world, analysed):
    own, _ = analysed

    assert APIClient().get(f"/api/v1/recordings/{own.pk}/file/").status_code == 401
    assert APIClient().get("/api/v1/detections/").status_code == 401


def test_a_recordings_detections_and_evidence_are_served_to_members(client_for, upload_world, analysed):
    own, _ = analysed
    client = client_for(upload_world.viewer)

    detections = client.get(f"/api/v1/recordings/{own.pk}/detections/").json()["results"]
    assert [(d["start_s"], d["end_s"], d["peak_score"]) for d in detections] == [(2.0, 3.5, 0.97)]
    assert client.get("/api/v1/detections/", {"recording": own.pk}).json()["count"] == 1

    clip = client.get(detections[0]["evidence_clip_url"], HTTP_ACCEPT="audio/*")
    assert clip.status_code == 200
    assert clip["Content-Type"] == "audio/wav"
    assert clip["Accept-Ranges"] == "bytes"
    assert b"".join(clip.streaming_content)[:4] == b"RIFF"

    picture = client.get(detections[0]["spectrogram_url"], HTTP_ACCEPT="image/avif,image/webp,*/*")
    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/png"
    assert b"".join(picture.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"

    original = client.get(f"/api/v1/recordings/{own.pk}/file/")
    assert original.status_code == 200
    assert 'attachment; filename="front door.wav"' in original["Content-Disposition"]
    with default_storage.open(own.file.name, "rb") as stored:
        assert b"".join(original.streaming_content) == stored.read()


def test_evidence_clips_answer_byte_ranges_for_safari(client_for, upload_world, analysed):
    own, _ = analysed
    detection = Detection.objects.get(recording=own)
    size = default_storage.size(detection.evidence_clip.name)
    client = client_for(upload_world.viewer)

    first_bytes = client.get(f"/api/v1/detections/{detection.pk}/clip/", HTTP_RANGE="bytes=0-1")
    assert first_bytes.status_code == 206
    assert first_bytes.content == b"RI"
    assert first_bytes["Content-Range"] == f"bytes 0-1/{size}"
    assert client.get(f"/api/v1/detections/{detection.pk}/clip/", HTTP_RANGE="bytes=-4").content.__len__() == 4
    unsatisfiable = client.get(f"/api/v1/detections/{detection.pk}/clip/", HTTP_RANGE=f"bytes={size}-")
    assert unsatisfiable.status_code == 416


def test_only_managers_delete_recordings_and_the_files_go_too(
    client_for, upload_world, analysed, django_capture_on_commit_callbacks
):
    own, _ = analysed
    detection = Detection.objects.get(recording=own)
    names = [own.file.name, detection.evidence_clip.name, detection.spectrogram.name]

    assert client_for(upload_world.operator).delete(f"/api/v1/recordings/{own.pk}/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(upload_world.manager).delete(f"/api/v1/recordings/{own.pk}/").status_code == 204

    assert not Recording.objects.filter(pk=own.pk).exists()
    assert not any(default_storage.exists(name) for name in names)


def test_files_on_remote_storage_redirect_to_a_presigned_url(client_for, upload_world, analysed, monkeypatch):
    own, _ = analysed

    signed = []

    class RemoteStorage:
        def url(self, name, parameters=None):
            signed.append(parameters)
            return f"https://bucket.example/{name}?X-Amz-Signature=abc"

    monkeypatch.setattr("detection.api.files.default_storage", RemoteStorage())

    response = client_for(upload_world.viewer).get(f"/api/v1/recordings/{own.pk}/file/")

    assert response.status_code == 302
    assert response["Location"] == f"https://bucket.example/{own.file.name}?X-Amz-Signature=abc"
    # The store must answer with the decoded type, as a download, whatever the object was stored as.
    assert signed[0]["ResponseContentType"] == "audio/wav"
    assert signed[0]["ResponseContentDisposition"].startswith("attachment; filename=")


def test_an_original_is_never_served_with_the_uploaders_non_audio_type(client_for, upload_world):
    recording = recording_create(
        file=audio_upload(tone_wav(2.0), name="page.html", content_type="text/html"), sensor=upload_world.sensor
    )

    response = client_for(upload_world.viewer).get(f"/api/v1/recordings/{recording.pk}/file/")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"  # what it decoded as, not the uploader's text/html
    assert recording.file.name.endswith(".wav") and recording.content_type == "text/html"  # kept for the record
    assert response["Content-Disposition"] == 'attachment; filename="page.html.wav"'
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_object_store_would_store_an_upload_as_its_decoded_audio_type(upload_world, monkeypatch):
    """S3Storage writes ContentType from the content's own content_type first: the uploader's must not reach it."""
    from storages.backends.s3 import S3Storage

    from detection import services

    written = []
    real_storage = services.default_storage

    class CapturingStorage:
        def save(self, name, content, **kwargs):
            written.append(S3Storage(bucket_name="outcry-media")._get_write_parameters(name, content))
            return real_storage.save(name, content, **kwargs)

        def __getattr__(self, name):
            return getattr(real_storage, name)

    monkeypatch.setattr(services, "default_storage", CapturingStorage())
    recording_create(
        file=audio_upload(tone_wav(2.0), name="page.html", content_type="text/html"), sensor=upload_world.sensor
    )

    assert written == [{"ContentType": "audio/x-wav"}]
