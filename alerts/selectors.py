"""Reads of incidents, always scoped to the sites the asking user may see (sites.selectors)."""

from datetime import datetime

from django.db.models import QuerySet

from alerts.models import Incident, IncidentEvent, IncidentStatus, NotificationChannel, NotificationDelivery
from outcry.models import User
from outcry.permissions import user_is_platform_admin
from sites.models import Membership, Role, Site
from sites.selectors import scope_to_user_sites

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
