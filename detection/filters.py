"""One filterset per model (query parameters of the list endpoints and of the selectors)."""

import django_filters

from detection.models import Detection, Recording, RecordingSource, RecordingStatus
from outcry.api.filters import IdFilter


# Foreign keys filter by plain id, so asking for a site or sensor you cannot see answers an empty
# list, exactly like one that does not exist.
class RecordingFilterSet(django_filters.FilterSet):
    site = IdFilter(field_name="site_id")
    sensor = IdFilter(field_name="sensor_id")
    status = django_filters.ChoiceFilter(choices=RecordingStatus.choices)
    source = django_filters.ChoiceFilter(choices=RecordingSource.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Recording
        fields = ["site", "sensor", "status", "source", "created_after", "created_before"]


class DetectionFilterSet(django_filters.FilterSet):
    recording = IdFilter(field_name="recording_id")
    site = IdFilter(field_name="site_id")
    sensor = IdFilter(field_name="sensor_id")
    min_score = django_filters.NumberFilter(field_name="peak_score", lookup_expr="gte")
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Detection
        fields = ["recording", "site", "sensor", "min_score", "occurred_after", "occurred_before"]
