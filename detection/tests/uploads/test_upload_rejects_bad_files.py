"""A bad file gets a clear 4xx in the API's error shape and leaves no row and no stored file."""

import pytest
from django.conf import settings as django_settings

from detection.models import Recording
from detection.tests.uploads.support import audio_upload, nan_wav, silent_wav, stored_files, tone_wav

pytestmark = pytest.mark.django_db

URL = "/api/v1/recordings/"


def _post(client_for, world, data: bytes, name: str = "clip.wav"):
    return client_for(world.operator).post(
        URL, {"file": audio_upload(data, name=name), "sensor": world.sensor.pk}, format="multipart"
    )


def _assert_nothing_left():
    assert Recording.objects.count() == 0
    assert stored_files(django_settings.MEDIA_ROOT) == []


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty", "empty"),
        (b"hello, this is a text file and not a recording\n" * 20, "not_audio", "not an audio file"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8, "not_audio", "not an audio file"),
        (nan_wav(), "corrupt", "corrupt"),
        (silent_wav(), "silent", "silent"),
    ],
    ids=["empty", "not-audio", "broken-header", "corrupt-samples", "silent"],
)
def test_upload_rejects_undecodable_audio(client_for, upload_world, inline_tasks, data, code, words):
    response = _post(client_for, upload_world, data)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["status"] == 400
    assert error["code"] == code
    assert words in error["message"].lower()
    _assert_nothing_left()


def test_upload_rejects_a_file_over_the_size_limit_with_413(client_for, upload_world, settings):
    settings.UPLOAD_MAX_BYTES = 10_000

    response = _post(client_for, upload_world, tone_wav(2.0))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert "limit" in response.json()["error"]["message"]
    _assert_nothing_left()


def test_upload_rejects_a_recording_over_the_duration_limit(client_for, upload_world, settings):
    settings.UPLOAD_MAX_DURATION_S = 2.0

    response = _post(client_for, upload_world, tone_wav(5.0))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_long"
    assert "limit" in error["message"]
    _assert_nothing_left()


def test_upload_without_a_file_is_a_field_error(client_for, upload_world):
    response = client_for(upload_world.operator).post(URL, {"sensor": upload_world.sensor.pk}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]
    _assert_nothing_left()


@pytest.mark.parametrize(
    ("recorded_at", "words"),
    [("2999-01-01T00:00:00Z", "is in the future"), ("1970-01-01T00:00:00Z", "is before 2000")],
    ids=["far-future", "clock-reset"],
)
def test_upload_dated_by_a_wrong_clock_is_refused(client_for, upload_world, recorded_at, words):
    """A scream dated centuries ahead would make its incident swallow every later one of the sensor."""
    response = client_for(upload_world.operator).post(
        URL,
        {"file": audio_upload(tone_wav()), "sensor": upload_world.sensor.pk, "recorded_at": recorded_at},
        format="multipart",
    )

    assert response.status_code == 400, response.content
    (message,) = response.json()["error"]["fields"]["recorded_at"]
    assert words in message and "check the device's clock" in message
    _assert_nothing_left()
