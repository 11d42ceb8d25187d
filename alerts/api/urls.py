"""Endpoints of /api/v1/ for incidents, notification channels and their deliveries."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from alerts.api.views import (
    AlarmReviewView,
    IncidentCsvExportView,
    IncidentViewSet,
    NotificationChannelViewSet,
    NotificationDeliveryViewSet,
)

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("notification-channels", NotificationChannelViewSet, basename="notificationchannel")
router.register("notification-deliveries", NotificationDeliveryViewSet, basename="notificationdelivery")

urlpatterns = [
    path("incidents/export.csv", IncidentCsvExportView.as_view(), name="incident-export"),  # before incidents/{id}/
    path("alarm-review/", AlarmReviewView.as_view(), name="alarm-review"),
    *router.urls,
]

# Shown by the API root: {name: URL name}.
root_endpoints = {
    "incidents": "incident-list",
    "incidents/export.csv": "incident-export",
    "notification-channels": "notificationchannel-list",
    "notification-deliveries": "notificationdelivery-list",
    "alarm-review": "alarm-review",
}
