"""Embedded mode: the upload returns at once and a pool thread analyses it after commit."""

import pytest

from detection.models import Detection, Recording, RecordingStatus
from detection.tests.uploads.support import audio_upload
from outcry import tasking

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_upload_is_analysed_by_the_embedded_thread_pool(client_for, upload_world, fake_engine, settings):
    settings.OUTCRY_TASK_RUNNER = "thread"

    response = client_for(upload_world.operator).post(
        "/api/v1/recordings/", {"file": audio_upload(), "sensor": upload_world.sensor.pk}, format="multipart"
    )
    tasking.wait_for_embedded_tasks()

    assert response.status_code == 202
    assert Recording.objects.get(pk=response.json()["id"]).status == RecordingStatus.DONE
    assert Detection.objects.count() == 1
