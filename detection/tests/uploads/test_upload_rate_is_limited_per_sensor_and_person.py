"""Each sensor and each person may upload so many recordings a minute (UPLOAD_RATE_LIMIT); more get
a 429 that says when to try again. Callers count apart, and reading is never limited."""

import pytest
from rest_framework.test import APIClient

from detection.api.throttles import UploadRateThrottle
from detection.tests.uploads.support import audio_upload, tone_wav
from sites.services import sensor_key_rotate

pytestmark = pytest.mark.django_db
URL = "/api/v1/recordings/"


@pytest.fixture(autouse=True)
def three_a_minute(monkeypatch):
    monkeypatch.setattr(UploadRateThrottle, "THROTTLE_RATES", {"recording_upload": "3/min"})


def _upload(client, sensor):
    return client.post(URL, {"file": audio_upload(tone_wav(1.0)), "sensor": sensor.pk}, format="multipart")


def test_a_sensor_past_its_rate_gets_429_and_others_still_upload(upload_world, make_sensor, client_for):
    sensor = APIClient()
    sensor.credentials(HTTP_X_SENSOR_KEY=sensor_key_rotate(sensor=upload_world.sensor))
    neighbour_sensor = make_sensor(upload_world.own, "Hall mic")
    neighbour = APIClient()
    neighbour.credentials(HTTP_X_SENSOR_KEY=sensor_key_rotate(sensor=neighbour_sensor))

    statuses = [_upload(sensor, upload_world.sensor).status_code for _ in range(4)]
    refused = _upload(sensor, upload_world.sensor)

    assert statuses == [202, 202, 202, 429]
    error = refused.json()["error"]
    assert error["code"] == "throttled" and "available in" in error["message"]
    assert int(refused["Retry-After"]) > 0
    assert _upload(neighbour, neighbour_sensor).status_code == 202  # same address, another sensor
    operator = client_for(upload_world.operator)
    assert _upload(operator, upload_world.sensor).status_code == 202  # people count apart
    assert sensor.get(URL).status_code != 429  # reading is not counted


def test_a_person_past_the_rate_is_refused_while_reading_goes_on(upload_world, client_for):
    operator = client_for(upload_world.operator)

    statuses = [_upload(operator, upload_world.sensor).status_code for _ in range(4)]

    assert statuses == [202, 202, 202, 429]
    assert all(operator.get(URL).status_code == 200 for _ in range(5))
