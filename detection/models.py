"""Recordings (audio that entered the system) and the detections found in them."""

import uuid
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.utils import timezone

from sites.models import Sensor, Site


def recording_upload_to(instance: "Recording", filename: str) -> str:
    """A dated path with a random name: the uploader's filename never reaches the disk."""
    suffix = PurePosixPath(filename).suffix.lower()
    if not suffix[1:].isalnum() or len(suffix) > 8:
        suffix = ""
    return f"recordings/{timezone.now():%Y/%m/%d}/{uuid.uuid4().hex}{suffix}"


def evidence_clip_upload_to(instance: "Detection", filename: str) -> str:
    return f"detections/clips/{timezone.now():%Y/%m/%d}/{uuid.uuid4().hex}.wav"


def spectrogram_upload_to(instance: "Detection", filename: str) -> str:
    return f"detections/spectrograms/{timezone.now():%Y/%m/%d}/{uuid.uuid4().hex}.png"


class RecordingSource(models.TextChoices):
    UPLOAD = "upload", "Upload"
    STREAM = "stream", "Stream segment"


class RecordingStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Recording(models.Model):
    """Audio that entered the system, and where its analysis stands."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="recordings")
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="recordings")
    source = models.CharField(max_length=16, choices=RecordingSource.choices, default=RecordingSource.UPLOAD)
    file = models.FileField(upload_to=recording_upload_to, max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    container = models.CharField(max_length=32, blank=True, help_text="Demuxer format, e.g. 'wav', 'ogg'.")
    codec = models.CharField(max_length=32, blank=True)
    source_sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    checksum_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=16, choices=RecordingStatus.choices, default=RecordingStatus.QUEUED, db_index=True
    )
    error = models.TextField(blank=True, help_text="Why the analysis failed, in words.")
    model_version = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recordings",
        help_text="Empty when a sensor sent it.",
    )
    recorded_at = models.DateTimeField(default=timezone.now, help_text="When the audio started.")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    audio_deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the retention policy deleted the audio (file and evidence clips; the rest is kept).",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "created_at"], name="recording_site_created")]

    def __str__(self) -> str:
        return f"Recording {self.pk} ({self.original_name or self.source}, {self.status})"


class Detection(models.Model):
    """A span of a recording where the scream probability passed the threshold."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="detections")
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="detections")
    # Copied from the recording so site-scoped queries need no join.
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="detections")
    start_s = models.FloatField(help_text="Offset of the span's start in the recording, in seconds.")
    end_s = models.FloatField(help_text="Offset of the span's end in the recording, in seconds.")
    peak_score = models.FloatField(help_text="Highest scream probability in the span.")
    mean_score = models.FloatField(help_text="Mean scream probability over the span.")
    model_version = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(help_text="Wall-clock time of the span's start.")
    evidence_clip = models.FileField(upload_to=evidence_clip_upload_to, max_length=255, blank=True)
    spectrogram = models.FileField(upload_to=spectrogram_upload_to, max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recording", "model_version", "start_s"], name="unique_detection_per_recording_model_start"
            )
        ]
        indexes = [models.Index(fields=["site", "occurred_at"], name="detection_site_occurred")]

    def __str__(self) -> str:
        return f"Detection {self.pk} at {self.start_s:.1f}s of recording {self.recording_id} ({self.peak_score:.2f})"

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @staticmethod
    def occurred_at_for(recording: Recording, start_s: float):
        return recording.recorded_at + timedelta(seconds=start_s)
