"""Platform endpoints of /api/v1/: people's API tokens."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from outcry.api.views import ApiTokenViewSet, TokenLoginView

router = SimpleRouter()
router.register("auth/tokens", ApiTokenViewSet, basename="apitoken")

urlpatterns = [path("auth/token/", TokenLoginView.as_view(), name="auth-token"), *router.urls]

# Shown by the API root: {name: URL name}.
root_endpoints = {"auth/token": "auth-token", "auth/tokens": "apitoken-list"}
