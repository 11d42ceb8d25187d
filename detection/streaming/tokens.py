"""Short-lived stream tokens: how a browser page streams as a sensor without ever seeing its key.

A manager's page asks ``POST /api/v1/sensors/{id}/stream-token/`` for a token signed with the
server's secret (``django.core.signing``), valid ``STREAM_TOKEN_MAX_AGE_S``, bound to the sensor, to
its current key (``key_lookup_id``) and to the manager it was issued to: rotating or revoking the
key voids every token issued for it, and a token (or a stream opened with one) is worth nothing
once its manager is no longer an active manager of the sensor's site.
"""

from dataclasses import dataclass

from django.core import signing

from outcry.models import User
from sites.models import Role, Sensor
from sites.selectors import user_has_role

STREAM_TOKEN_MAX_AGE_S = 300
_SALT = "outcry.detection.stream-token"


@dataclass(frozen=True)
class StreamGrant:
    sensor: Sensor
    issuer_id: int  # the manager the token was issued to


def stream_token_issue(*, sensor: Sensor, user: User) -> str:
    """A token that lets a hello message stream as ``sensor``, for ``user``, for the next few minutes."""
    if not sensor.has_active_key or not sensor.key_lookup_id:
        raise ValueError("the sensor has no active key")
    claims = {"sensor": sensor.pk, "key": sensor.key_lookup_id, "user": user.pk}
    return signing.dumps(claims, salt=_SALT, compress=False)


def issuer_may_stream(*, issuer_id: int, sensor: Sensor) -> bool:
    """Whether the person a token was issued to is still an active manager of the sensor's site."""
    issuer = User.objects.filter(pk=issuer_id, is_active=True).first()
    return issuer is not None and user_has_role(user=issuer, site=sensor.site, min_role=Role.MANAGER)


def grant_from_stream_token(token: str) -> StreamGrant | None:
    """The enabled sensor a valid, unexpired token names, while its key is still the one it was
    issued for and its manager still manages the sensor's site."""
    try:
        claims = signing.loads(token, salt=_SALT, max_age=STREAM_TOKEN_MAX_AGE_S)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("user"), int):
        return None
    sensor = (
        Sensor.objects.select_related("site").filter(pk=claims.get("sensor"), key_lookup_id=claims.get("key")).first()
    )
    if sensor is None or not sensor.enabled or not sensor.has_active_key:
        return None
    if not issuer_may_stream(issuer_id=claims["user"], sensor=sensor):
        return None
    return StreamGrant(sensor=sensor, issuer_id=claims["user"])
