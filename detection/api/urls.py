"""Endpoints of /api/v1/ for recordings (uploads) and detections."""

from rest_framework.routers import SimpleRouter

from detection.api.views import DetectionViewSet, RecordingViewSet
from detection.streaming.urls import urlpatterns as streaming_urlpatterns

router = SimpleRouter()
router.register("recordings", RecordingViewSet, basename="recording")
router.register("detections", DetectionViewSet, basename="detection")

urlpatterns = [*router.urls, *streaming_urlpatterns]

# Shown by the API root: {name: URL name}.
root_endpoints = {"recordings": "recording-list", "detections": "detection-list"}
