"""Endpoints of /api/v1/ for sites, sensors, memberships and the signed-in user."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from sites.api.views import ConfigChangeViewSet, MembershipViewSet, SensorMeView, SensorViewSet, SiteViewSet, UserMeView

router = SimpleRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("sensors", SensorViewSet, basename="sensor")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("config-changes", ConfigChangeViewSet, basename="config-change")

urlpatterns = [
    path("users/me/", UserMeView.as_view(), name="user-me"),
    path("sensors/me/", SensorMeView.as_view(), name="sensor-me"),  # before sensors/{id}/
    *router.urls,
]

# Shown by the API root: {name: URL name}.
root_endpoints = {
    "users/me": "user-me",
    "sites": "site-list",
    "sensors": "sensor-list",
    "sensors/me": "sensor-me",
    "memberships": "membership-list",
    "config-changes": "config-change-list",
}
