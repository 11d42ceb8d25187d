"""If anything fails after the file was stored, the stored file is deleted again."""

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import OperationalError

from detection.models import Recording
from detection.services import recording_create
from detection.tests.uploads.support import audio_upload, stored_files, tone_wav

pytestmark = pytest.mark.django_db


def test_a_database_error_after_storing_deletes_the_stored_file(upload_world, monkeypatch):
    def failing_save(self, *args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(Recording, "save", failing_save)

    with pytest.raises(OperationalError):
        recording_create(file=audio_upload(), sensor=upload_world.sensor, uploaded_by=upload_world.operator)

    assert stored_files(django_settings.MEDIA_ROOT) == []


def test_a_failed_dispatch_keeps_the_recording_for_the_sweep(upload_world, monkeypatch, caplog):
    """The row is committed by then, so its file stays; the periodic sweep dispatches it later."""

    def failing_enqueue(task, *args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("detection.services.enqueue", failing_enqueue)

    recording = recording_create(file=audio_upload(), sensor=upload_world.sensor, uploaded_by=upload_world.operator)

    assert Recording.objects.get().status == "queued"
    assert [path.name for path in stored_files(django_settings.MEDIA_ROOT)] == [recording.file.name.split("/")[-1]]
    assert "the periodic sweep will send it again" in caplog.text


def test_the_service_refuses_a_file_over_the_size_limit(upload_world, settings):
    """The API refuses big bodies early; the service checks the file itself as well."""
    settings.UPLOAD_MAX_BYTES = len(tone_wav(1.0)) - 1

    with pytest.raises(ValidationError) as refused:
        recording_create(file=audio_upload(tone_wav(1.0)), sensor=upload_world.sensor)

    assert refused.value.code == "too_large"
    assert Recording.objects.count() == 0
    assert stored_files(django_settings.MEDIA_ROOT) == []
