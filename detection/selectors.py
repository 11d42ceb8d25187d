"""Reads of recordings and detections, always scoped to the sites the asking user may see."""

from typing import Any

from django.db.models import QuerySet

from detection.filters import DetectionFilterSet, RecordingFilterSet
from detection.models import Detection, Recording
from outcry.models import User
from sites.selectors import scope_to_user_sites


def recording_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Recording]:
    queryset = scope_to_user_sites(Recording.objects.select_related("site", "sensor", "uploaded_by"), user=user)
    return RecordingFilterSet(filters or {}, queryset=queryset).qs


def recording_get(*, user: User, recording_id: int) -> Recording | None:
    return recording_list(user=user).filter(pk=recording_id).first()


def detection_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Detection]:
    queryset = scope_to_user_sites(Detection.objects.select_related("site", "sensor", "recording"), user=user)
    return DetectionFilterSet(filters or {}, queryset=queryset).qs
