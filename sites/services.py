"""Writes for sites, sensors and memberships."""

import hmac

from django.db import transaction
from django.utils import timezone

from outcry.models import hash_secret, new_secret
from sites.models import Sensor


@transaction.atomic
def sensor_key_rotate(*, sensor: Sensor) -> str:
    """Give ``sensor`` a new key and return it; this is the only time it is visible.

    The previous key stops working at once.
    """
    full_key, lookup_id, key_hash = new_secret(Sensor.KEY_PREFIX)
    sensor.key_lookup_id = lookup_id
    sensor.key_hash = key_hash
    sensor.key_created_at = timezone.now()
    sensor.key_revoked_at = None
    sensor.save(update_fields=["key_lookup_id", "key_hash", "key_created_at", "key_revoked_at", "updated_at"])
    return full_key


@transaction.atomic
def sensor_key_revoke(*, sensor: Sensor) -> None:
    sensor.key_hash = ""
    sensor.key_revoked_at = timezone.now()
    sensor.save(update_fields=["key_hash", "key_revoked_at", "updated_at"])


def sensor_from_key(raw_key: str) -> Sensor | None:
    """The enabled sensor whose current key is ``raw_key``, or None (wrong, revoked, disabled)."""
    raw_key = raw_key.strip()
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != Sensor.KEY_PREFIX:
        return None
    sensor = Sensor.objects.select_related("site").filter(key_lookup_id=parts[1]).first()
    if sensor is None or not sensor.has_active_key or not sensor.enabled:
        return None
    if not hmac.compare_digest(sensor.key_hash, hash_secret(raw_key)):
        return None
    return sensor
