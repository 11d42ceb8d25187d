"""Short-lived stream tokens: how a browser page streams as a sensor without ever seeing its key.

A manager's page asks ``POST /api/v1/sensors/{id}/stream-token/`` for a token signed with the
server's secret (``django.core.signing``), valid ``STREAM_TOKEN_MAX_AGE_S``, bound to the sensor and
to its current key (``key_lookup_id``): rotating or revoking the key voids every token issued for it.
"""

from django.core import signing

from sites.models import Sensor

STREAM_TOKEN_MAX_AGE_S = 300
_SALT = "outcry.detection.stream-token"


def stream_token_issue(*, sensor: Sensor) -> str:
    """A token that lets a hello message stream as ``sensor`` for the next few minutes."""
    if not sensor.has_active_key or not sensor.key_lookup_id:
        raise ValueError("the sensor has no active key")
    return signing.dumps({"sensor": sensor.pk, "key": sensor.key_lookup_id}, salt=_SALT, compress=False)


def sensor_from_stream_token(token: str) -> Sensor | None:
    """The enabled sensor a valid, unexpired token names while its key is still the one it was issued for."""
    try:
        claims = signing.loads(token, salt=_SALT, max_age=STREAM_TOKEN_MAX_AGE_S)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(claims, dict):
        return None
    sensor = (
        Sensor.objects.select_related("site").filter(pk=claims.get("sensor"), key_lookup_id=claims.get("key")).first()
    )
    if sensor is None or not sensor.enabled or not sensor.has_active_key:
        return None
    return sensor
