"""An uploaded HLS playlist is refused as not audio, and the server fetches none of its URLs (SSRF)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from detection.models import Recording
from detection.tests.conftest import hls_playlist

pytestmark = pytest.mark.django_db


def test_an_uploaded_playlist_is_refused_and_its_url_never_fetched(client_for, upload_world, listener):
    port, connections = listener
    playlist = SimpleUploadedFile(
        "evidence.m3u8", hls_playlist(f"http://127.0.0.1:{port}/internal/admin.ts"), content_type="audio/x-mpegurl"
    )

    response = client_for(upload_world.operator).post(
        "/api/v1/recordings/", {"file": playlist, "sensor": upload_world.sensor.pk}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_audio"
    assert connections == [] and not Recording.objects.exists()
