from importlib import import_module

from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.urls import Resolver404, include, path, re_path, resolve
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


def api_not_found(request):
    """No API view matched. A GET that only lacks its trailing slash is redirected, as Django's
    APPEND_SLASH does elsewhere (this catch-all matching first stops it from doing so here)."""
    with_slash = f"{request.path}/"
    if not request.path.endswith("/") and _resolves(with_slash):
        if request.method in ("GET", "HEAD"):
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(with_slash + (f"?{query}" if query else ""))
        return error_response_404(f"No API endpoint at this URL; did you mean {with_slash}?")
    return error_response_404()


def _resolves(path: str) -> bool:
    """Whether an API view (not this catch-all) answers ``path``."""
    try:
        return resolve(path).func is not api_not_found
    except Resolver404:
        return False


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
    # Unknown API URLs answer in the API's JSON error shape even with DEBUG on (handler404 is not
    # used then, and the debug page would list every URL pattern).
    re_path(r"^api/", api_not_found),
    path("", include("frontend.urls")),
]


def handler404(request, exception):
    """Unknown URLs under /api/ answer in the API's JSON error shape; the rest get the HTML page."""
    if request.path.startswith("/api/"):
        return error_response_404()
    return defaults.page_not_found(request, exception)
