from datetime import UTC, datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from detection.api.files import versioned_url
from detection.models import Detection, Recording
from outcry.api.fields import ModelSerializer
from sites.models import Sensor
from sites.selectors import sensor_list


@extend_schema_field(OpenApiTypes.INT)
class VisibleSensorField(serializers.PrimaryKeyRelatedField):
    """A sensor id among those the requesting user may see (a sensor key: itself); others read as nonexistent."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is not None and isinstance(request.auth, Sensor):  # a sensor key names only itself
            return Sensor.objects.filter(pk=request.auth.pk)
        if request is None or not request.user.is_authenticated:
            return Sensor.objects.none()
        return sensor_list(user=request.user)


# How far ahead of the server's clock an upload may say it was recorded (clocks drift a little).
RECORDED_AT_MAX_AHEAD_S = 300
EARLIEST_RECORDED_AT = datetime(2000, 1, 1, tzinfo=UTC)


class RecordingUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # the service refuses empty files with its own message
        help_text="The audio: WAV, MP3, FLAC, OGG (Vorbis/Opus), M4A (AAC) or WebM.",
    )
    sensor = VisibleSensorField(
        required=False,
        error_messages={"does_not_exist": "No sensor with this id at your sites."},
        help_text="The sensor that heard it. Required for people; a sensor key implies its own sensor.",
    )
    recorded_at = serializers.DateTimeField(
        required=False,
        help_text=(
            "When the audio started (ISO 8601); defaults to the time of the upload. Not more than "
            f"{RECORDED_AT_MAX_AHEAD_S // 60} minutes ahead of the server's clock, "
            f"nor before {EARLIEST_RECORDED_AT.year}."
        ),
    )

    def validate_recorded_at(self, value: datetime) -> datetime:
        # A device with a wrong clock would otherwise date its screams in the future, and an incident
        # whose last detection is years ahead swallows every later scream of the sensor as "within the
        # cooldown"; a clock reset to 1970 is as wrong.
        now = timezone.now()
        if value > now + timedelta(seconds=RECORDED_AT_MAX_AHEAD_S):
            raise serializers.ValidationError(
                f"{value.isoformat()} is in the future (the server's time is "
                f"{now.replace(microsecond=0).isoformat()}): check the device's clock."
            )
        if value < EARLIEST_RECORDED_AT:
            raise serializers.ValidationError(
                f"{value.isoformat()} is before {EARLIEST_RECORDED_AT.year}: check the device's clock."
            )
        return value


def _absolute(request, view_name: str, pk: int, *, stored_name: str = "") -> str:
    url = reverse(view_name, kwargs={"pk": pk})
    if stored_name:  # a file's URL names the version of the file
        url = versioned_url(url, stored_name)
    return request.build_absolute_uri(url) if request is not None else url


class RecordingSerializer(ModelSerializer):
    url = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField(
        help_text="Download of the original file (authenticated); null once the retention policy deleted the audio."
    )
    detections_url = serializers.SerializerMethodField()
    sensor_name = serializers.CharField(source="sensor.name", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)

    class Meta:
        model = Recording
        fields = [
            "id",
            "url",
            "site",
            "site_name",
            "sensor",
            "sensor_name",
            "source",
            "status",
            "error",
            "original_name",
            "content_type",
            "size_bytes",
            "container",
            "codec",
            "source_sample_rate",
            "channels",
            "duration_s",
            "checksum_sha256",
            "model_version",
            "uploaded_by",
            "recorded_at",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "audio_deleted_at",
            "file_url",
            "detections_url",
        ]
        read_only_fields = fields

    def get_url(self, recording: Recording) -> str:
        return _absolute(self.context.get("request"), "recording-detail", recording.pk)

    def get_file_url(self, recording: Recording) -> str | None:
        if recording.audio_deleted_at is not None:
            return None
        return _absolute(self.context.get("request"), "recording-file", recording.pk, stored_name=recording.file.name)

    def get_detections_url(self, recording: Recording) -> str:
        return _absolute(self.context.get("request"), "recording-detections", recording.pk)


class DetectionSerializer(ModelSerializer):
    url = serializers.SerializerMethodField()
    evidence_clip_url = serializers.SerializerMethodField(help_text="WAV of the span with 2 s around it.")
    spectrogram_url = serializers.SerializerMethodField(help_text="PNG spectrogram with the span shaded.")
    sensor_name = serializers.CharField(source="sensor.name", read_only=True)

    class Meta:
        model = Detection
        fields = [
            "id",
            "url",
            "recording",
            "site",
            "sensor",
            "sensor_name",
            "start_s",
            "end_s",
            "peak_score",
            "mean_score",
            "model_version",
            "occurred_at",
            "evidence_clip_url",
            "spectrogram_url",
            "created_at",
        ]
        read_only_fields = fields

    def get_url(self, detection: Detection) -> str:
        return _absolute(self.context.get("request"), "detection-detail", detection.pk)

    def get_evidence_clip_url(self, detection: Detection) -> str | None:
        if not detection.evidence_clip:
            return None
        return _absolute(
            self.context.get("request"), "detection-clip", detection.pk, stored_name=detection.evidence_clip.name
        )

    def get_spectrogram_url(self, detection: Detection) -> str | None:
        if not detection.spectrogram:
            return None
        return _absolute(
            self.context.get("request"), "detection-spectrogram", detection.pk, stored_name=detection.spectrogram.name
        )
