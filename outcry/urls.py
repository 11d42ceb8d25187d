from django.contrib import admin
from django.urls import include, path

from outcry import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/", include("outcry.api.urls")),
    path("api/v1/", include("sites.api.urls")),
    path("", include("frontend.urls")),
]
