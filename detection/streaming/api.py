"""API of live streaming: stream tokens for browser pages, and the protocol page."""

from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from detection.streaming.protocol import STREAM_PATH
from detection.streaming.tokens import STREAM_TOKEN_MAX_AGE_S, stream_token_issue
from sites.models import Role
from sites.selectors import sensor_list, user_has_role

PROTOCOL_DOC = Path(__file__).with_name("PROTOCOL.md")


class StreamTokenView(APIView):
    """A short-lived token that lets a browser page stream a sensor's microphone.

    For a manager of the sensor's site. Put it in the stream's hello instead of the sensor key:
    ``{"type": "hello", "token": "...", "sample_rate": 16000, "format": "pcm_s16le"}`` on
    ``/ws/sensors/stream/`` (protocol: ``/api/v1/streaming/protocol/``). It expires after five
    minutes, as soon as the sensor's key is rotated or revoked, and when you stop being a manager of
    its site (a stream opened with it closes then too); the key itself is never shown.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["sensors"],
        request=None,
        responses={
            201: inline_serializer(
                "StreamToken",
                {
                    "token": serializers.CharField(),
                    "expires_in": serializers.IntegerField(),
                    "stream_path": serializers.CharField(),
                    "sensor": serializers.IntegerField(),
                },
            ),
            409: OpenApiResponse(description="The sensor has no active key or is disabled."),
        },
    )
    def post(self, request, pk: int):
        sensor = get_object_or_404(sensor_list(user=request.user), pk=pk)
        if not user_has_role(user=request.user, site=sensor.site, min_role=Role.MANAGER):
            raise PermissionDenied("Streaming as a sensor needs the manager role at its site.")
        if not sensor.enabled or not sensor.has_active_key:
            return Response(
                {"detail": "This sensor is disabled or has no active key; enable it or rotate its key first."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            {
                "token": stream_token_issue(sensor=sensor, user=request.user),
                "expires_in": STREAM_TOKEN_MAX_AGE_S,
                "stream_path": f"/{STREAM_PATH}",
                "sensor": sensor.pk,
            },
            status=status.HTTP_201_CREATED,
        )


def protocol_page(request: HttpRequest) -> HttpResponse:
    """The streaming protocol (PROTOCOL.md), readable in a browser; ``?format=md`` for the source."""
    text = PROTOCOL_DOC.read_text(encoding="utf-8")
    if request.GET.get("format") == "md":
        return HttpResponse(text, content_type="text/markdown; charset=utf-8")
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Outcry sensor streaming protocol</title>"
        "<style>body{max-width:60rem;margin:2rem auto;padding:0 1rem;font:15px/1.5 system-ui,sans-serif}"
        "pre{white-space:pre-wrap}</style></head><body>"
        f"<pre>{escape(text)}</pre></body></html>"
    )
    return HttpResponse(html)
