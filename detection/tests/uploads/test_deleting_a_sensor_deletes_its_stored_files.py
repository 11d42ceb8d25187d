"""Files follow their rows: a cascade from a sensor or site deletes the stored audio and evidence."""

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from detection.models import Detection, Recording
from detection.services import recording_analyze, recording_create
from detection.tests.uploads.support import audio_upload, stored_files
from sites.services import sensor_delete

pytestmark = pytest.mark.django_db


def test_deleting_a_sensor_deletes_its_recordings_files(upload_world, fake_engine, django_capture_on_commit_callbacks):
    recording = recording_create(file=audio_upload(), sensor=upload_world.sensor)
    recording_analyze(recording_id=recording.pk)
    assert len(stored_files(django_settings.MEDIA_ROOT)) == 3  # upload, clip, spectrogram

    with django_capture_on_commit_callbacks(execute=True):
        sensor_delete(sensor=upload_world.sensor)

    assert not Recording.objects.exists() and not Detection.objects.exists()
    assert stored_files(django_settings.MEDIA_ROOT) == []


def test_a_deletion_that_rolls_back_keeps_the_files(upload_world, django_capture_on_commit_callbacks):
    recording = recording_create(file=audio_upload(), sensor=upload_world.sensor)
    recording_id = recording.pk

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        recording.delete()
        raise RuntimeError("changed my mind")

    assert Recording.objects.filter(pk=recording_id).exists()
    assert len(stored_files(django_settings.MEDIA_ROOT)) == 1
