"""Device endpoints authenticate sensors by key; GET /api/v1/sensors/me/ is the sensor's own config."""

import pytest
from rest_framework.test import APIClient

from outcry.services import api_token_create
from sites.services import sensor_key_revoke, sensor_key_rotate


@pytest.fixture
def sensor_and_key(make_site, make_sensor):
    site = make_site("Riverside", timezone="Europe/Berlin", default_threshold=0.7, default_cooldown_s=90)
    sensor = make_sensor(
        site, "Loading bay", cooldown_override_s=30, active_hours=[{"days": [0, 1], "start": "08:00", "end": "18:00"}]
    )
    return sensor, sensor_key_rotate(sensor=sensor)


def test_a_sensor_reads_its_own_config_with_a_bearer_key(sensor_and_key):
    sensor, key = sensor_and_key

    response = APIClient().get("/api/v1/sensors/me/", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == sensor.pk
    assert body["site"] == {
        "id": sensor.site.pk,
        "name": "Riverside",
        "slug": sensor.site.slug,
        "timezone": "Europe/Berlin",
        "status": "active",
    }
    assert body["effective_threshold"] == 0.7
    assert body["effective_cooldown_s"] == 30
    assert body["active_hours"] == [{"days": [0, 1], "start": "08:00", "end": "18:00"}]


def test_a_sensor_key_is_also_accepted_in_the_x_sensor_key_header(sensor_and_key):
    sensor, key = sensor_and_key

    response = APIClient().get("/api/v1/sensors/me/", HTTP_X_SENSOR_KEY=key)

    assert response.status_code == 200
    assert response.json()["id"] == sensor.pk


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_SENSOR_KEY"])
def test_a_wrong_key_is_401(sensor_and_key, header):
    _, key = sensor_and_key
    value = key[:-4] + "abcd"

    response = APIClient().get(
        "/api/v1/sensors/me/", **{header: f"Bearer {value}" if header == "HTTP_AUTHORIZATION" else value}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_revoked_key_is_401(sensor_and_key):
    sensor, key = sensor_and_key
    sensor_key_revoke(sensor=sensor)

    assert APIClient().get("/api/v1/sensors/me/", HTTP_X_SENSOR_KEY=key).status_code == 401


def test_no_credentials_is_401(db):
    response = APIClient().get("/api/v1/sensors/me/")

    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


def test_a_person_cannot_use_the_sensor_endpoint(make_user):
    _, secret = api_token_create(user=make_user(is_staff=True))

    response = APIClient().get("/api/v1/sensors/me/", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 401


def test_a_sensor_key_is_not_a_person(sensor_and_key):
    _, key = sensor_and_key

    for url in ("/api/v1/users/me/", "/api/v1/sites/", "/api/v1/sensors/"):
        response = APIClient().get(url, HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 403, url  # a device, not a person: told where its key works
        assert "may only upload recordings" in response.json()["error"]["message"]
