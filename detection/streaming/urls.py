"""URLs of live streaming, included by ``detection.api.urls`` under /api/v1/."""

from django.urls import path

from detection.streaming.api import StreamTokenView, protocol_page

urlpatterns = [
    path("sensors/<int:pk>/stream-token/", StreamTokenView.as_view(), name="sensor-stream-token"),
    path("streaming/protocol/", protocol_page, name="streaming-protocol"),
]
