"""Sensor-key authentication for device endpoints.

A sensor sends ``Authorization: Bearer osk_<id>_<secret>`` or ``X-Sensor-Key: osk_…``. On success
``request.user`` is an AnonymousUser (a sensor is not a person and holds no role) and
``request.auth`` is the Sensor. Endpoints that people and sensors both call use
``PERSON_OR_SENSOR_AUTHENTICATION`` with ``sites.permissions.IsPersonOrSensor``: people's API
tokens (``oct_``) are left to ``outcry.authentication.ApiTokenAuthentication``, which ignores
sensor keys.
"""

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from outcry.authentication import ApiTokenAuthentication
from sites.models import Sensor
from sites.services import sensor_from_key

SENSOR_KEY_HEADER = "X-Sensor-Key"


def _raw_sensor_key(request) -> str | None:
    header_key = request.headers.get(SENSOR_KEY_HEADER)
    if header_key:
        return header_key.strip()
    parts = authentication.get_authorization_header(request).decode(errors="replace").split()
    if len(parts) == 2 and parts[0].lower() == "bearer" and parts[1].startswith(f"{Sensor.KEY_PREFIX}_"):
        return parts[1]
    return None


class SensorKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw_key = _raw_sensor_key(request)
        if raw_key is None:
            return None
        sensor = sensor_from_key(raw_key)
        if sensor is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or disabled sensor key.")
        return AnonymousUser(), sensor

    def authenticate_header(self, request):
        return "Bearer"


class SensorKeyRefusedHere(authentication.BaseAuthentication):
    """Last in the default chain: a sensor key sent to an endpoint that is not for sensors is told
    so (403), instead of a 401 saying that no credentials were sent."""

    def authenticate(self, request):
        if _raw_sensor_key(request) is not None:
            raise exceptions.PermissionDenied(
                "A sensor key may only upload recordings (POST /api/v1/recordings/) and read /api/v1/sensors/me/; "
                "use a person's API token for this endpoint."
            )
        return None


class SensorKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = SensorKeyAuthentication
    name = "sensorKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": SENSOR_KEY_HEADER,
            "description": "A sensor's key (osk_…), also accepted as 'Authorization: Bearer osk_…'.",
        }


# For endpoints that people and sensors both call (uploads): pair with sites.permissions.IsPersonOrSensor.
PERSON_OR_SENSOR_AUTHENTICATION = [
    ApiTokenAuthentication,
    SensorKeyAuthentication,
    authentication.SessionAuthentication,
]
