from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # The project's template: drf-spectacular's links Google Fonts (see the template).
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="outcry/api_redoc.html"),
        name="api-redoc",
    ),
]
