"""The admin pages of recordings and detections render and link media through the API only."""

import pytest
from django.test import Client

from detection.models import Detection
from detection.services import recording_analyze, recording_create
from detection.tests.uploads.support import audio_upload

pytestmark = pytest.mark.django_db


def test_admin_change_pages_link_media_through_the_api(upload_world, fake_engine, make_user):
    recording = recording_create(file=audio_upload(), sensor=upload_world.sensor)
    recording_analyze(recording_id=recording.pk)
    detection = Detection.objects.get()
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))

    pages = [
        client.get("/admin/detection/recording/"),
        client.get(f"/admin/detection/recording/{recording.pk}/change/"),
        client.get("/admin/detection/detection/"),
        client.get(f"/admin/detection/detection/{detection.pk}/change/"),
    ]

    assert [page.status_code for page in pages] == [200] * 4
    assert f"/api/v1/recordings/{recording.pk}/file/" in pages[1].text
    assert f"/api/v1/detections/{detection.pk}/clip/" in pages[3].text
    assert "/media/" not in pages[1].text + pages[3].text
