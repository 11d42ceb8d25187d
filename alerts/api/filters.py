"""Query parameters of the incident and delivery lists."""

import django_filters
from django.db.models import QuerySet

from alerts.models import DeliveryStatus, Incident, IncidentPriority, IncidentStatus, NotificationDelivery
from alerts.selectors import incident_filter
from outcry.api.filters import IdFilter


class CommaMultipleChoiceFilter(django_filters.MultipleChoiceFilter):
    """Repeated (?status=new&status=on_hold) or comma-separated (?status=new,on_hold) values."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "One or more values, repeated or comma-separated.")
        super().__init__(*args, **kwargs)


class IncidentFilterSet(django_filters.FilterSet):
    """Filtering is done by ``alerts.selectors.incident_filter``; this declares and validates it."""

    site = IdFilter(help_text="A site id.")
    sensor = IdFilter(help_text="A sensor id.")
    status = CommaMultipleChoiceFilter(choices=IncidentStatus.choices)
    priority = CommaMultipleChoiceFilter(choices=IncidentPriority.choices)
    opened_after = django_filters.IsoDateTimeFilter(help_text="Opened at or after (ISO 8601).")
    opened_before = django_filters.IsoDateTimeFilter(help_text="Opened before (ISO 8601).")

    class Meta:
        model = Incident
        fields = ["site", "sensor", "status", "priority", "opened_after", "opened_before"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = data.copy()
            for name in ("status", "priority"):
                if hasattr(data, "setlist") and name in data:
                    values = [part.strip() for value in data.getlist(name) for part in value.split(",") if part.strip()]
                    data.setlist(name, values)
        super().__init__(data, *args, **kwargs)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return incident_filter(queryset, filters=self.form.cleaned_data)


class NotificationDeliveryFilterSet(django_filters.FilterSet):
    site = IdFilter(field_name="channel__site_id", help_text="A site id.")
    channel = IdFilter(field_name="channel_id", help_text="A channel id.")
    incident = IdFilter(field_name="incident_id", help_text="An incident id.")
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = NotificationDelivery
        fields = ["site", "channel", "incident", "status"]
