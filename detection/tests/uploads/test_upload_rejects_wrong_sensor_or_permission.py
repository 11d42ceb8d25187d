"""Uploads need an operator at the sensor's site (or the sensor's own key); refusals leave nothing."""

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from detection.models import Recording
from detection.tests.uploads.support import audio_upload, stored_files
from sites.models import SiteStatus
from sites.services import sensor_key_revoke, sensor_key_rotate

pytestmark = pytest.mark.django_db

URL = "/api/v1/recordings/"


def _assert_nothing_left():
    assert Recording.objects.count() == 0
    assert stored_files(django_settings.MEDIA_ROOT) == []


def _post(client, sensor_id=None):
    data = {"file": audio_upload()}
    if sensor_id is not None:
        data["sensor"] = sensor_id
    return client.post(URL, data, format="multipart")


def test_upload_by_a_viewer_is_forbidden(client_for, upload_world):
    response = _post(client_for(upload_world.viewer), upload_world.sensor.pk)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "operator" in response.json()["error"]["message"]
    _assert_nothing_left()


@pytest.mark.parametrize("who", ["outsider", "other_operator"])
def test_upload_for_a_sensor_you_cannot_see_reads_as_a_missing_sensor(client_for, upload_world, who):
    response = _post(client_for(getattr(upload_world, who)), upload_world.sensor.pk)
    missing = _post(client_for(getattr(upload_world, who)), 999_999)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == missing.json()["error"]["fields"]  # no leak
    assert "sensor" in response.json()["error"]["fields"]
    _assert_nothing_left()


def test_upload_by_an_operator_naming_another_sites_sensor_is_refused(client_for, upload_world):
    response = _post(client_for(upload_world.operator), upload_world.other_sensor.pk)

    assert response.status_code == 400
    assert "sensor" in response.json()["error"]["fields"]
    _assert_nothing_left()


def test_upload_by_a_person_must_name_a_sensor(client_for, upload_world):
    response = _post(client_for(upload_world.operator))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "required"
    _assert_nothing_left()


def test_upload_by_anonymous_is_unauthorized(upload_world):
    response = _post(APIClient(), upload_world.sensor.pk)

    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401
    _assert_nothing_left()


def test_upload_to_a_disabled_sensor_is_refused(client_for, upload_world):
    upload_world.sensor.enabled = False
    upload_world.sensor.save()

    response = _post(client_for(upload_world.operator), upload_world.sensor.pk)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "sensor_disabled"
    assert "disabled" in response.json()["error"]["message"]
    _assert_nothing_left()


def test_upload_to_a_paused_site_is_refused(client_for, upload_world):
    upload_world.own.status = SiteStatus.PAUSED
    upload_world.own.save()

    response = _post(client_for(upload_world.operator), upload_world.sensor.pk)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "site_inactive"
    _assert_nothing_left()


def test_upload_with_a_revoked_sensor_key_is_unauthorized(upload_world):
    key = sensor_key_rotate(sensor=upload_world.sensor)
    sensor_key_revoke(sensor=upload_world.sensor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = _post(client)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    _assert_nothing_left()


def test_upload_with_a_sensor_key_cannot_name_another_sensor(upload_world):
    key = sensor_key_rotate(sensor=upload_world.sensor)
    other_key = sensor_key_rotate(sensor=upload_world.other_sensor)
    client = APIClient()
    client.credentials(HTTP_X_SENSOR_KEY=key)

    response = _post(client, upload_world.other_sensor.pk)

    assert other_key != key
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"sensor": ["No sensor with this id at your sites."]}
    _assert_nothing_left()
