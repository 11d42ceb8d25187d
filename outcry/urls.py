from importlib import import_module

from django.contrib import admin
from django.urls import include, path
from django.views import defaults

from outcry import health
from outcry.api.errors import error_response_404
from outcry.api.views import ApiRootView

# Each app's /api/v1/ URLconf; each also names the endpoints the API root lists (root_endpoints).
API_V1_URLCONFS = ["outcry.api.v1_urls", "sites.api.urls", "detection.api.urls", "alerts.api.urls"]
_api_v1_modules = [import_module(name) for name in API_V1_URLCONFS]
_api_v1_root_endpoints = {
    **{name: url_name for module in _api_v1_modules for name, url_name in module.root_endpoints.items()},
    "schema": "schema",
    "docs": "api-docs",
}

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/", include("outcry.api.urls")),
    path(
        "api/v1/",
        ApiRootView.as_view(endpoints=_api_v1_root_endpoints),
        name="api-root",
    ),
    *(path("api/v1/", include(module)) for module in _api_v1_modules),
    path("", include("frontend.urls")),
]


def handler404(request, exception):
    """Unknown URLs under /api/ answer in the API's JSON error shape; the rest get the HTML page."""
    if request.path.startswith("/api/"):
        return error_response_404()
    return defaults.page_not_found(request, exception)
