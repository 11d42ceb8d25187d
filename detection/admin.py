from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from detection.models import Detection, Recording


def _api_link(view_name: str, pk: int, label: str) -> str:
    """Media is private: link to the authenticated API view that serves it, never to MEDIA_URL."""
    return format_html('<a href="{}">{}</a>', reverse(view_name, kwargs={"pk": pk}), label)


class DetectionInline(admin.TabularInline):
    model = Detection
    extra = 0
    can_delete = False
    fields = ["start_s", "end_s", "peak_score", "mean_score", "model_version", "occurred_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["id", "site", "sensor", "source", "status", "duration_s", "model_version", "created_at"]
    list_filter = ["status", "source", "site"]
    search_fields = ["original_name", "checksum_sha256", "sensor__name", "site__name"]
    date_hierarchy = "created_at"
    list_select_related = ["site", "sensor"]
    raw_id_fields = ["sensor", "uploaded_by"]
    exclude = ["file"]
    readonly_fields = [
        "original_file",
        "size_bytes",
        "container",
        "codec",
        "source_sample_rate",
        "channels",
        "duration_s",
        "checksum_sha256",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
        "audio_deleted_at",
    ]
    inlines = [DetectionInline]

    @admin.display(description="Original file")
    def original_file(self, recording: Recording) -> str:
        if recording.audio_deleted_at is not None:
            return f"deleted on {recording.audio_deleted_at:%Y-%m-%d} (audio retention)"
        return _api_link("recording-file", recording.pk, recording.original_name or "download") if recording.pk else "-"


@admin.register(Detection)
class DetectionAdmin(admin.ModelAdmin):
    list_display = ["id", "site", "sensor", "occurred_at", "start_s", "end_s", "peak_score", "model_version"]
    list_filter = ["site", "model_version"]
    search_fields = ["sensor__name", "site__name"]
    date_hierarchy = "occurred_at"
    list_select_related = ["site", "sensor"]
    raw_id_fields = ["recording", "sensor"]
    exclude = ["evidence_clip", "spectrogram"]
    readonly_fields = ["evidence", "created_at"]

    @admin.display(description="Evidence")
    def evidence(self, detection: Detection) -> str:
        if not detection.pk:
            return "-"
        return format_html(
            "{} · {}",
            _api_link("detection-clip", detection.pk, "clip (WAV)"),
            _api_link("detection-spectrogram", detection.pk, "spectrogram (PNG)"),
        )
