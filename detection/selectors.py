"""Reads of recordings and detections, scoped to the sites the asking user may see (the retention
purge's selector, which reads for the system, is the one exception)."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from detection.filters import DetectionFilterSet, RecordingFilterSet
from detection.models import Detection, Recording, RecordingStatus
from outcry.models import User
from sites.models import Sensor, Site
from sites.selectors import scope_to_user_sites

logger = logging.getLogger(__name__)


def recording_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Recording]:
    queryset = scope_to_user_sites(Recording.objects.select_related("site", "sensor", "uploaded_by"), user=user)
    return RecordingFilterSet(filters or {}, queryset=queryset).qs


def recording_get(*, user: User, recording_id: int) -> Recording | None:
    return recording_list(user=user).filter(pk=recording_id).first()


def detection_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Detection]:
    queryset = scope_to_user_sites(Detection.objects.select_related("site", "sensor", "recording"), user=user)
    return DetectionFilterSet(filters or {}, queryset=queryset).qs


def recordings_past_retention(*, now: datetime) -> QuerySet[Recording]:
    """Recordings whose audio is older than their site's retention and still stored, oldest first,
    with ``detection_count``; not those whose analysis is queued or running."""
    expired = Q(
        site__audio_retention_days__isnull=True, created_at__lt=now - timedelta(days=settings.AUDIO_RETENTION_DAYS)
    )
    site_days = Site.objects.exclude(audio_retention_days=None).values_list("audio_retention_days", flat=True)
    for days in set(site_days):
        expired |= Q(site__audio_retention_days=days, created_at__lt=now - timedelta(days=days))
    return (
        Recording.objects.filter(expired, audio_deleted_at__isnull=True)
        .exclude(status__in=[RecordingStatus.QUEUED, RecordingStatus.PROCESSING])
        .annotate(detection_count=Count("detections"))
        .order_by("created_at", "pk")
    )


# When a sensor leaves the threshold to the model and the model cannot be loaded (a demo incident
# raised on a machine without one): the product's old default.
FALLBACK_THRESHOLD = 0.5


def sensor_threshold(sensor: Sensor) -> float:
    """The threshold a sensor's detections raise incidents at: its override, else its site's default,
    else the detection model's own (chosen on validation data; ``DETECTION_THRESHOLD`` overrides it)."""
    if sensor.effective_threshold is not None:
        return sensor.effective_threshold
    from detection.engine import ModelError, get_engine  # ONNX Runtime only when it is needed

    try:
        return get_engine().threshold
    except ModelError as error:
        logger.warning("no detection model to take the threshold from (%s); using %s", error, FALLBACK_THRESHOLD)
        return FALLBACK_THRESHOLD
