"""One filterset per model (query parameters of the list endpoints)."""

from datetime import timedelta

import django_filters
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from outcry.api.filters import IdFilter
from sites.models import (
    ChangeAction,
    ConfigChange,
    Membership,
    Role,
    Sensor,
    SensorKind,
    SensorStatus,
    Site,
    SiteStatus,
)


class SiteFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SiteStatus.choices)

    class Meta:
        model = Site
        fields = ["status", "slug"]


# Foreign keys filter by plain id (not a choice of every row) so that asking for a site you cannot
# see answers an empty list, exactly like a site that does not exist.
class SensorFilterSet(django_filters.FilterSet):
    site = IdFilter(field_name="site_id")
    kind = django_filters.ChoiceFilter(choices=SensorKind.choices)
    status = django_filters.ChoiceFilter(choices=SensorStatus.choices, method="filter_status")

    class Meta:
        model = Sensor
        fields = ["site", "kind", "enabled", "status"]

    def filter_status(self, queryset: QuerySet[Sensor], name: str, value: str) -> QuerySet[Sensor]:
        recent = Q(last_seen__gte=timezone.now() - timedelta(seconds=settings.SENSOR_OFFLINE_AFTER_S))
        if value == SensorStatus.DISABLED:
            return queryset.filter(enabled=False)
        if value == SensorStatus.ONLINE:
            return queryset.filter(recent, enabled=True)
        return queryset.filter(enabled=True).exclude(recent)


class MembershipFilterSet(django_filters.FilterSet):
    site = IdFilter(field_name="site_id")
    user = IdFilter(field_name="user_id")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["site", "role", "user"]


class ConfigChangeFilterSet(django_filters.FilterSet):
    site = IdFilter(field_name="site_id")
    actor = IdFilter(field_name="actor_id")
    action = django_filters.ChoiceFilter(choices=ChangeAction.choices)
    object_type = django_filters.ChoiceFilter(
        choices=[(kind, kind) for kind in ("site", "sensor", "membership", "notification channel")]
    )
    object_id = IdFilter()
    after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ConfigChange
        fields = ["site", "actor", "action", "object_type", "object_id", "after", "before"]
