"""The authentication pair later device endpoints (uploads) use: a person's token/session or a sensor key."""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from outcry.services import api_token_create
from sites.authentication import PERSON_OR_SENSOR_AUTHENTICATION
from sites.models import Sensor
from sites.permissions import IsPersonOrSensor
from sites.services import sensor_key_rotate


class WhoAmIView(APIView):
    authentication_classes = PERSON_OR_SENSOR_AUTHENTICATION
    permission_classes = [IsPersonOrSensor]

    def post(self, request):
        if isinstance(request.auth, Sensor):
            return Response({"sensor": request.auth.pk, "person": None})
        return Response({"sensor": None, "person": request.user.username})


@pytest.fixture
def call():
    def call(**headers):
        request = APIRequestFactory().post("/upload/", {}, format="json", **headers)
        return WhoAmIView.as_view()(request)

    return call


def test_a_person_with_a_token_is_a_person(call, make_user):
    _, secret = api_token_create(user=make_user("alice"))

    response = call(HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert (response.status_code, response.data) == (200, {"sensor": None, "person": "alice"})


def test_a_sensor_key_is_a_sensor_not_a_person(call, make_sensor):
    sensor = make_sensor()
    key = sensor_key_rotate(sensor=sensor)

    for headers in ({"HTTP_AUTHORIZATION": f"Bearer {key}"}, {"HTTP_X_SENSOR_KEY": key}):
        response = call(**headers)
        assert (response.status_code, response.data) == (200, {"sensor": sensor.pk, "person": None})


def test_nobody_is_refused(call, db):
    assert call().status_code == 401
