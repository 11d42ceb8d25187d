"""Writes for sites, sensors and memberships."""

import hmac
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from outcry.models import User, hash_secret, new_secret
from sites.models import Membership, Role, Sensor, Site

SITE_FIELDS = frozenset(
    {"name", "slug", "address", "timezone", "status", "default_threshold", "default_cooldown_s", "ack_timeout_s"}
    | {"keep_stream_audio", "audio_retention_days"}
)
SENSOR_FIELDS = frozenset(
    {"name", "location", "kind", "enabled", "threshold_override", "cooldown_override_s", "silenced_until"}
    | {"active_hours"}
)


def _apply(instance, data: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)} on {type(instance).__name__}")
    for field, value in data.items():
        setattr(instance, field, value)
    return list(data)


@transaction.atomic
def site_create(*, name: str, slug: str, **fields: Any) -> Site:
    site = Site(name=name, slug=slug)
    _apply(site, fields, SITE_FIELDS)
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def site_update(*, site: Site, data: dict[str, Any]) -> Site:
    changed = _apply(site, data, SITE_FIELDS)
    site.full_clean()
    site.save(update_fields=[*changed, "updated_at"])
    return site


@transaction.atomic
def site_delete(*, site: Site) -> None:
    site.delete()


@transaction.atomic
def sensor_create(*, site: Site, name: str, **fields: Any) -> tuple[Sensor, str]:
    """A new sensor and its first key; the key is returned here once and only its hash is stored."""
    sensor = Sensor(site=site, name=name)
    _apply(sensor, fields, SENSOR_FIELDS)
    sensor.full_clean()
    sensor.save()
    return sensor, sensor_key_rotate(sensor=sensor)


@transaction.atomic
def sensor_update(*, sensor: Sensor, data: dict[str, Any]) -> Sensor:
    changed = _apply(sensor, data, SENSOR_FIELDS)
    sensor.full_clean()
    sensor.save(update_fields=[*changed, "updated_at"])
    return sensor


@transaction.atomic
def sensor_delete(*, sensor: Sensor) -> None:
    sensor.delete()


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


@transaction.atomic
def membership_create(*, user: User, site: Site, role: str) -> Membership:
    membership = Membership(user=user, site=site, role=role)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, role: str, by_platform_admin: bool = False) -> Membership:
    if role != Role.MANAGER and not by_platform_admin:
        _keep_a_manager(membership=membership, losing="manager role")
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership, by_platform_admin: bool = False) -> None:
    if not by_platform_admin:
        _keep_a_manager(membership=membership, losing="membership")
    membership.delete()


def _keep_a_manager(*, membership: Membership, losing: str) -> None:
    """Refuse to take away a site's last manager: nobody but a platform admin could then manage it
    (its sensors, people and notification channels), so only a platform admin may do it. The site's
    row is locked first, so two managers demoting each other at once cannot both succeed."""
    site = Site.objects.select_for_update().get(pk=membership.site_id)
    current_role = Membership.objects.filter(pk=membership.pk).values_list("role", flat=True).first()
    if current_role != Role.MANAGER:
        return
    if not Membership.objects.filter(site=site, role=Role.MANAGER).exclude(pk=membership.pk).exists():
        raise ValidationError(
            f"{membership.user.username} is the last manager of {site.name}: make someone else its manager "
            f"before removing this {losing}."
        )
