from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from detection.api.files import FILE_RENDERERS, stored_file_response
from detection.api.serializers import DetectionSerializer, RecordingSerializer, RecordingUploadSerializer
from detection.api.throttles import UploadRateThrottle
from detection.audio import container_file_type
from detection.filters import DetectionFilterSet, RecordingFilterSet
from detection.models import Detection, Recording
from detection.selectors import detection_list, recording_list
from detection.services import recording_create, recording_delete
from outcry.api.errors import error_response
from sites.authentication import SensorKeyAuthentication
from sites.models import Role, Sensor
from sites.permissions import IsPersonOrSensor, SiteRolePermission

# Room for the multipart envelope around a file of the maximum size.
_MULTIPART_OVERHEAD_BYTES = 64 * 1024

_BINARY = OpenApiResponse(OpenApiTypes.BINARY, description="The file (local storage) or a redirect to it (S3).")


def _upload_refused(error: DjangoValidationError) -> Response:
    code = getattr(error, "code", None) or "invalid"
    if code == "too_large":
        return error_response(error.messages[0], code=code, http_status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return error_response(error.messages[0], code=code)


def audio_deleted_response(recording: Recording) -> Response:
    """410: the audio existed and the retention policy deleted it (the record of it stays)."""
    return error_response(
        f"The audio of recording {recording.pk} was deleted on {recording.audio_deleted_at:%Y-%m-%d} under "
        "its site's audio retention policy; its detections and spectrograms are kept.",
        code="audio_deleted",
        http_status=status.HTTP_410_GONE,
    )


@extend_schema_view(
    list=extend_schema(summary="Recordings of your sites", description="Newest first; filter by site, sensor, …"),
    retrieve=extend_schema(summary="One recording and the state of its analysis"),
    destroy=extend_schema(summary="Delete a recording, its detections and stored files (managers)"),
)
class RecordingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Audio uploaded by people or sensors, and where its analysis stands."""

    queryset = Recording.objects.none()
    serializer_class = RecordingSerializer
    filterset_class = RecordingFilterSet
    ordering_fields = ["created_at", "recorded_at", "duration_s", "status"]
    authentication_classes = [SensorKeyAuthentication, *viewsets.GenericViewSet.authentication_classes]
    action_roles = {"destroy": Role.MANAGER}
    parser_classes = [MultiPartParser, FormParser]  # the only body it takes is an upload
    throttle_scope = "recording_upload"

    def get_throttles(self):
        return [UploadRateThrottle()] if self.action == "create" else []  # uploads count, reading does not

    def get_permissions(self):
        if self.action == "create":
            return [IsPersonOrSensor()]
        return [SiteRolePermission()]

    def get_queryset(self):
        return recording_list(user=self.request.user)

    @extend_schema(
        summary="Upload a recording for analysis",
        description=(
            "Multipart upload, by a person (API token or session; operator or manager at the sensor's site) "
            "or by a sensor with its key (the sensor is implied). The file is checked (size, decodable, "
            "duration) before anything is stored; analysis runs in the background: poll the returned URL "
            "until status is done or failed."
        ),
        request={"multipart/form-data": RecordingUploadSerializer},
        responses={
            202: RecordingSerializer,
            400: OpenApiResponse(description="Bad file (empty, not audio, corrupt, silent, too long) or sensor."),
            403: OpenApiResponse(description="Not an operator at the sensor's site."),
            413: OpenApiResponse(description="The file is larger than the upload limit."),
        },
    )
    def create(self, request, *args, **kwargs):
        content_length = int(request.META.get("CONTENT_LENGTH") or 0)
        if content_length > settings.UPLOAD_MAX_BYTES + _MULTIPART_OVERHEAD_BYTES:
            return error_response(
                f"The upload is larger than the limit of {settings.UPLOAD_MAX_BYTES / 1_048_576:.1f} MiB.",
                code="too_large",
                http_status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        serializer = RecordingUploadSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        sensor = self._upload_sensor(serializer.validated_data.get("sensor"))
        if isinstance(sensor, Response):
            return sensor
        try:
            recording = recording_create(
                file=serializer.validated_data["file"],
                sensor=sensor,
                uploaded_by=request.user if request.user.is_authenticated else None,
                recorded_at=serializer.validated_data.get("recorded_at"),
            )
        except DjangoValidationError as error:
            return _upload_refused(error)
        except PermissionDenied as error:
            return error_response(str(error), code="permission_denied", http_status=status.HTTP_403_FORBIDDEN)
        recording.refresh_from_db()
        data = RecordingSerializer(recording, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})

    def _upload_sensor(self, named: Sensor | None) -> Sensor | Response:
        if isinstance(self.request.auth, Sensor):  # the serializer accepted no sensor but this one
            return self.request.auth
        if named is None:
            return error_response("Name the sensor that recorded the audio ('sensor').", code="required")
        return named

    def perform_destroy(self, instance: Recording) -> None:
        recording_delete(recording=instance)

    @extend_schema(summary="Download the original file", responses={(200, "*/*"): _BINARY})
    @action(detail=True, methods=["get"], url_path="file", url_name="file", renderer_classes=FILE_RENDERERS)
    def file(self, request, pk=None):
        recording = self.get_object()
        if recording.audio_deleted_at is not None:
            return audio_deleted_response(recording)
        # Served as what it decoded as, never as the type the uploader claimed (text/html...).
        suffix, content_type = container_file_type(recording.container)
        download_name = recording.original_name or f"recording-{recording.pk}"
        if not download_name.lower().endswith(suffix):  # "page.html" downloads as "page.html.wav"
            download_name += suffix
        return stored_file_response(
            request, recording.file.name, content_type=content_type, download_name=download_name
        )

    @extend_schema(summary="Detections found in a recording", responses=DetectionSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="detections", url_name="detections", filterset_class=None)
    def detections(self, request, pk=None):
        recording = self.get_object()
        detections = detection_list(user=request.user).filter(recording=recording).order_by("start_s")
        page = self.paginate_queryset(detections)
        serializer = DetectionSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)


@extend_schema_view(
    list=extend_schema(summary="Detections on your sites", description="Newest first; filter by recording, …"),
    retrieve=extend_schema(summary="One detection"),
)
class DetectionViewSet(viewsets.ReadOnlyModelViewSet):
    """Spans of recordings where the model heard a scream, with their evidence."""

    queryset = Detection.objects.none()
    serializer_class = DetectionSerializer
    filterset_class = DetectionFilterSet
    ordering_fields = ["occurred_at", "peak_score", "created_at"]
    permission_classes = [SiteRolePermission]

    def get_queryset(self):
        return detection_list(user=self.request.user)

    @extend_schema(summary="The evidence clip (WAV)", responses={(200, "audio/wav"): _BINARY})
    @action(detail=True, methods=["get"], url_path="clip", url_name="clip", renderer_classes=FILE_RENDERERS)
    def clip(self, request, pk=None):
        detection = self.get_object()
        if detection.recording.audio_deleted_at is not None:
            return audio_deleted_response(detection.recording)
        if not detection.evidence_clip:
            return error_response("This detection has no evidence clip.", code="not_found", http_status=404)
        return stored_file_response(request, detection.evidence_clip.name, content_type="audio/wav")

    @extend_schema(summary="The spectrogram (PNG)", responses={(200, "image/png"): _BINARY})
    @action(
        detail=True, methods=["get"], url_path="spectrogram", url_name="spectrogram", renderer_classes=FILE_RENDERERS
    )
    def spectrogram(self, request, pk=None):
        detection = self.get_object()
        if not detection.spectrogram:
            return error_response("This detection has no spectrogram.", code="not_found", http_status=404)
        return stored_file_response(request, detection.spectrogram.name, content_type="image/png")
