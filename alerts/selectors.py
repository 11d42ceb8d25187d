"""Reads of incidents, always scoped to the sites the asking user may see (sites.selectors)."""

from collections import Counter
from datetime import datetime

from django.db.models import QuerySet

from alerts.models import (
    Incident,
    IncidentEvent,
    IncidentStatus,
    NotificationChannel,
    NotificationDelivery,
    Resolution,
)
from alerts.policy import threshold_advice
from detection.selectors import sensor_threshold
from outcry.models import User
from outcry.permissions import user_is_platform_admin
from sites.models import Membership, Role, Sensor, Site
from sites.selectors import scope_to_user_sites, sensor_list

INCIDENT_RELATED = ("site", "sensor", "acknowledged_by", "assignee", "resolved_by", "peak_detection__recording")


def incident_list(*, user: User, filters: dict | None = None) -> QuerySet[Incident]:
    """The user's incidents, newest first. ``filters`` (all optional): site, sensor (ids),
    status (a value or a list), priority (a value or a list), opened_after, opened_before (datetimes).
    """
    queryset = scope_to_user_sites(Incident.objects.select_related(*INCIDENT_RELATED), user=user)
    return incident_filter(queryset, filters=filters or {}).order_by("-opened_at", "-id")


def incident_filter(queryset: QuerySet[Incident], *, filters: dict) -> QuerySet[Incident]:
    """Apply the incident list filters (see ``incident_list``); empty values filter nothing."""
    if filters.get("site") is not None:
        queryset = queryset.filter(site_id=filters["site"])
    if filters.get("sensor") is not None:
        queryset = queryset.filter(sensor_id=filters["sensor"])
    for field in ("status", "priority"):
        value = filters.get(field)
        if value:
            queryset = queryset.filter(**{f"{field}__in": [value] if isinstance(value, str) else list(value)})
    opened_after: datetime | None = filters.get("opened_after")
    opened_before: datetime | None = filters.get("opened_before")
    if opened_after:
        queryset = queryset.filter(opened_at__gte=opened_after)
    if opened_before:
        queryset = queryset.filter(opened_at__lt=opened_before)
    return queryset


def incident_get(*, user: User, incident_id: int) -> Incident:
    """One incident the user may see; ``Incident.DoesNotExist`` for any other (even if it exists)."""
    return incident_list(user=user).get(pk=incident_id)


def incident_timeline(*, user: User, incident: Incident) -> QuerySet[IncidentEvent]:
    """The incident's events, oldest first (empty for an incident the user may not see)."""
    visible = incident_list(user=user).filter(pk=incident.pk)
    return IncidentEvent.objects.filter(incident__in=visible).select_related("actor").order_by("created_at", "id")


def incidents_awaiting_acknowledgement() -> QuerySet[Incident]:
    """Every incident still new, with its site (escalation reads the site's ack timeout)."""
    return Incident.objects.filter(status=IncidentStatus.NEW).select_related("site").order_by("opened_at")


def notification_channel_list(*, user: User) -> QuerySet[NotificationChannel]:
    """Channels of the sites the user manages (they hold addresses and webhook URLs)."""
    return scope_to_user_sites(NotificationChannel.objects.select_related("site"), user=user, min_role=Role.MANAGER)


def notification_delivery_list(*, user: User) -> QuerySet[NotificationDelivery]:
    return scope_to_user_sites(
        NotificationDelivery.objects.select_related("channel"),
        user=user,
        site_field="channel__site",
        min_role=Role.MANAGER,
    ).order_by("-created_at", "-id")


def site_roles(*, user: User) -> dict:
    """{site id: role} of the user's memberships; ``{"*": "manager"}`` for platform admins."""
    if user_is_platform_admin(user):
        return {"*": Role.MANAGER}
    return dict(Membership.objects.filter(user=user).values_list("site_id", "role"))


def console_sites(*, user: User) -> list[dict]:
    """[{id, name, role}] of every site whose incidents the user's console shows (admins: all, as manager)."""
    if user_is_platform_admin(user):
        sites = Site.objects.order_by("name", "id")
        return [{"id": site.pk, "name": site.name, "role": Role.MANAGER.value} for site in sites]
    memberships = Membership.objects.filter(user=user).select_related("site").order_by("site__name", "site_id")
    return [{"id": m.site_id, "name": m.site.name, "role": m.role} for m in memberships]


def sensor_alarm_review(
    *, user: User, since: datetime, until: datetime, site_id: int | None = None, sensor_id: int | None = None
) -> list[dict]:
    """How each sensor the user may see fared from ``since`` to ``until``: its incidents by outcome and
    a threshold advice (``alerts.policy.threshold_advice``) drawn from how operators resolved them.

    Incidents count by when they were opened. Real screams are those resolved as a confirmed
    emergency or a test. Sensors with the most false alarms come first.
    """
    sensors = sensor_list(user=user).order_by("site__name", "name", "id")
    if site_id is not None:
        sensors = sensors.filter(site_id=site_id)
    if sensor_id is not None:
        sensors = sensors.filter(pk=sensor_id)
    sensors = list(sensors)
    incidents = Incident.objects.filter(
        sensor__in=[sensor.pk for sensor in sensors], opened_at__gte=since, opened_at__lt=until
    ).values_list("sensor_id", "status", "resolution", "peak_score")
    by_sensor: dict[int, list[tuple[str, str, float]]] = {sensor.pk: [] for sensor in sensors}
    for sensor_pk, status, resolution, peak_score in incidents:
        by_sensor[sensor_pk].append((status, resolution, peak_score))
    review = []
    for sensor in sensors:
        rows = by_sensor[sensor.pk]
        resolved = Counter(resolution for status, resolution, _ in rows if status == IncidentStatus.RESOLVED)
        false_alarms = [peak for status, resolution, peak in rows if resolution == Resolution.FALSE_ALARM]
        real_screams = [
            peak for _, resolution, peak in rows if resolution in (Resolution.CONFIRMED_EMERGENCY, Resolution.TEST)
        ]
        threshold = sensor_threshold(sensor)
        review.append(
            {
                "sensor": sensor,
                "threshold": threshold,
                "threshold_source": _threshold_source(sensor),
                "incidents": len(rows),
                "open": sum(status != IncidentStatus.RESOLVED for status, _, _ in rows),
                "resolved": {choice: resolved.get(choice, 0) for choice in Resolution.values},
                "advice": threshold_advice(
                    current=threshold, false_alarm_peaks=false_alarms, real_scream_peaks=real_screams
                ),
            }
        )
    return sorted(review, key=lambda row: -row["resolved"][Resolution.FALSE_ALARM])


def _threshold_source(sensor: Sensor) -> str:
    if sensor.threshold_override is not None:
        return "sensor"
    return "site" if sensor.site.default_threshold is not None else "model"
