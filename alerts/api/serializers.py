from urllib.parse import urlsplit

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.models import (
    ChannelKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    NotificationChannel,
    NotificationDelivery,
    NotifyOn,
    Resolution,
)
from alerts.policy import allowed_actions
from detection.api.files import versioned_url
from detection.models import Detection, RecordingStatus
from outcry.api.fields import ChoiceField, ModelSerializer, MultipleChoiceField
from outcry.api.filters import MAX_ID
from outcry.api.serializers import UserSummarySerializer
from sites.api.serializers import SiteSummarySerializer, VisibleSiteField
from sites.models import Sensor


class SensorSummarySerializer(ModelSerializer):
    class Meta:
        model = Sensor
        fields = ["id", "name", "location"]


class EvidenceSerializer(serializers.Serializer):
    detection_id = serializers.IntegerField()
    recording_id = serializers.IntegerField()
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    clip_url = serializers.CharField(allow_null=True, help_text="Authenticated download; null until extracted.")
    spectrogram_url = serializers.CharField(allow_null=True, help_text="Authenticated download; null until drawn.")
    audio_deleted_at = serializers.DateTimeField(
        allow_null=True, help_text="When the site's audio retention deleted the audio (the clip is gone; null: kept)."
    )
    complete = serializers.BooleanField(
        help_text="False while a live stream's scream is still being recorded or drawn: the clip and spectrogram"
        " will be replaced by the whole scream's (new URLs)."
    )


def detection_clip_path(detection: Detection) -> str:
    return versioned_url(reverse("detection-clip", kwargs={"pk": detection.pk}), detection.evidence_clip.name)


def detection_spectrogram_path(detection: Detection) -> str:
    return versioned_url(reverse("detection-spectrogram", kwargs={"pk": detection.pk}), detection.spectrogram.name)


class IncidentSerializer(ModelSerializer):
    """An incident as the console shows it; the broadcast sends exactly this (no allowed_actions)."""

    url = serializers.SerializerMethodField(help_text="Path of this incident in the API.")
    site = SiteSummarySerializer(read_only=True)
    sensor = SensorSummarySerializer(read_only=True)
    waited_s = serializers.SerializerMethodField(
        help_text="Seconds the incident has waited (while new) or waited (until it left new)."
    )
    acknowledged_by = UserSummarySerializer(read_only=True, allow_null=True)
    assignee = UserSummarySerializer(read_only=True, allow_null=True)
    resolved_by = UserSummarySerializer(read_only=True, allow_null=True)
    evidence = serializers.SerializerMethodField(help_text="The peak detection's audio and spectrogram.")

    class Meta:
        model = Incident
        fields = [
            "id",
            "url",
            "site",
            "sensor",
            "status",
            "priority",
            "peak_score",
            "detection_count",
            "opened_at",
            "last_detection_at",
            "waited_s",
            "acknowledged_at",
            "acknowledged_by",
            "assignee",
            "resolved_at",
            "resolved_by",
            "resolution",
            "resolution_note",
            "escalation_level",
            "evidence",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, incident: Incident) -> str:
        return reverse("incident-detail", kwargs={"pk": incident.pk})

    def get_waited_s(self, incident: Incident) -> int:
        if incident.status == IncidentStatus.NEW:
            until = timezone.now()
        else:
            until = incident.acknowledged_at or incident.resolved_at or incident.updated_at or timezone.now()
        return max(0, int((until - incident.opened_at).total_seconds()))

    @extend_schema_field(EvidenceSerializer(allow_null=True))
    def get_evidence(self, incident: Incident) -> dict | None:
        detection = incident.peak_detection
        if detection is None:
            return None
        return {
            "detection_id": detection.pk,
            "recording_id": detection.recording_id,
            "start_s": detection.start_s,
            "end_s": detection.end_s,
            "clip_url": detection_clip_path(detection) if detection.evidence_clip else None,
            "spectrogram_url": detection_spectrogram_path(detection) if detection.spectrogram else None,
            "audio_deleted_at": detection.recording.audio_deleted_at,
            "complete": detection.recording.status == RecordingStatus.DONE and bool(detection.spectrogram),
        }


class IncidentWithActionsSerializer(IncidentSerializer):
    """The REST form: adds what the asking user may do now (context ``site_roles``, from
    ``alerts.selectors.site_roles``)."""

    allowed_actions = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "allowed_actions"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, incident: Incident) -> list[str]:
        roles = self.context.get("site_roles") or {}
        return allowed_actions(role=roles.get(incident.site_id, roles.get("*")), status=incident.status)


class IncidentEventSerializer(ModelSerializer):
    actor = UserSummarySerializer(read_only=True, allow_null=True, help_text="Null for the system.")

    class Meta:
        model = IncidentEvent
        fields = ["id", "kind", "actor", "from_status", "to_status", "text", "data", "created_at"]
        read_only_fields = fields


# --- Workflow action bodies ---------------------------------------------------------------------


class AssignSerializer(serializers.Serializer):
    assignee = serializers.CharField(
        allow_null=True, help_text='A user id, "me", or null to unassign. Operators may assign only themselves.'
    )


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000, trim_whitespace=True)


class OptionalTextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ResolveSerializer(serializers.Serializer):
    resolution = ChoiceField(choices=Resolution.choices)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


# --- Notification channels ----------------------------------------------------------------------


class NotificationChannelSerializer(ModelSerializer):
    site = VisibleSiteField(help_text="Set at creation; a channel does not move between sites.")
    notify_on = MultipleChoiceField(choices=NotifyOn.choices, help_text="new, escalation, or both.")
    recipients = serializers.ListField(
        child=serializers.EmailField(), required=False, help_text="Email channels: the addresses."
    )
    secret = serializers.SerializerMethodField(
        help_text="Webhooks: the signing secret, only in the response that created or rotated it."
    )

    class Meta:
        model = NotificationChannel
        fields = [
            "id",
            "site",
            "kind",
            "name",
            "enabled",
            "recipients",
            "url",
            "notify_on",
            "secret",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # The destination check (alerts.destinations) may resolve the name; it runs once, in the service's
        # full_clean, after the permission check, so only a site's managers can make the server look names up.
        # The URL field checks the form itself (one "Enter a valid URL."); the scheme is validate_url's.
        extra_kwargs = {"url": {"validators": []}}

    def validate_url(self, value: str) -> str:
        if value and urlsplit(value).scheme.lower() not in ("http", "https"):
            raise serializers.ValidationError("A webhook URL starts with http:// or https://.")
        return value

    def get_secret(self, channel: NotificationChannel) -> str | None:
        return getattr(channel, "reveal_secret", None)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["notify_on"] = sorted(data["notify_on"], key=NotifyOn.values.index)
        return data

    def validate(self, attrs):
        if self.instance is not None:
            if "site" in attrs and attrs["site"] != self.instance.site:
                raise serializers.ValidationError({"site": "A channel does not move between sites."})
            if "kind" in attrs and attrs["kind"] != self.instance.kind:
                raise serializers.ValidationError({"kind": "A channel's kind cannot change; create another."})
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        recipients = attrs.get("recipients", getattr(self.instance, "recipients", []))
        url = attrs.get("url", getattr(self.instance, "url", ""))
        if kind == ChannelKind.EMAIL and not recipients:
            raise serializers.ValidationError({"recipients": "An email channel needs at least one recipient."})
        if kind == ChannelKind.WEBHOOK and not url:
            raise serializers.ValidationError({"url": "A webhook channel needs a URL."})
        if "notify_on" in attrs:
            if not attrs["notify_on"]:
                raise serializers.ValidationError({"notify_on": "Choose new, escalation, or both."})
            attrs["notify_on"] = sorted(attrs["notify_on"], key=NotifyOn.values.index)
        return attrs


class NotificationDeliverySerializer(ModelSerializer):
    channel = serializers.SerializerMethodField()
    site = serializers.IntegerField(source="channel.site_id", read_only=True)

    class Meta:
        model = NotificationDelivery
        fields = [
            "id",
            "site",
            "channel",
            "incident",
            "reason",
            "status",
            "attempts",
            "next_attempt_at",
            "response_code",
            "last_error",
            "sent_at",
            "announced_priority",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"}},
        }
    )
    def get_channel(self, delivery: NotificationDelivery) -> dict:
        return {"id": delivery.channel_id, "name": delivery.channel.name, "kind": delivery.channel.kind}


# --- Alarm review -------------------------------------------------------------------------------


class AlarmReviewQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1, max_value=366, default=30, help_text="The period: incidents opened in the last N days (1-366)."
    )
    site = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this site's sensors (a site id)."
    )
    sensor = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this sensor (a sensor id)."
    )


class ThresholdAdviceSerializer(serializers.Serializer):
    threshold = serializers.FloatField(
        allow_null=True, help_text="The threshold advised; null: keep the present one (reason says why)."
    )
    false_alarms_avoided = serializers.IntegerField(help_text="False alarms of the period it would not have raised.")
    reason = serializers.CharField()


class SensorAlarmReviewSerializer(serializers.Serializer):
    sensor = SensorSummarySerializer()
    site = SiteSummarySerializer(source="sensor.site")
    threshold = serializers.FloatField(help_text="The sensor's threshold now.")
    threshold_source = serializers.ChoiceField(
        choices=["sensor", "site", "model"],
        help_text="Where it comes from: the sensor's override, its site's default, or the detection model's own.",
    )
    incidents = serializers.IntegerField(help_text="Incidents opened in the period.")
    open = serializers.IntegerField(help_text="Of those, not yet resolved.")
    resolved = serializers.DictField(
        child=serializers.IntegerField(), help_text="Resolved incidents by resolution: " + ", ".join(Resolution.values)
    )
    advice = ThresholdAdviceSerializer()


class AlarmReviewSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    sensors = SensorAlarmReviewSerializer(many=True, help_text="Most false alarms first.")
