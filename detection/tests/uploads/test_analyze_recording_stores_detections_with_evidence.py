"""Analysis stores one Detection per event, with a playable clip and a spectrogram picture."""

import struct
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage

from detection import evidence
from detection.audio import decode_audio
from detection.engine import ScreamEvent
from detection.models import Detection, RecordingStatus
from detection.tasks import analyze_recording
from detection.tests.uploads.support import FAKE_MODEL_VERSION, stored_files

pytestmark = pytest.mark.django_db


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_analysis_stores_detections_with_clip_and_spectrogram(
    queued_recording, fake_engine, stored_signals, django_capture_on_commit_callbacks
):
    fake_engine.events = [
        ScreamEvent(start_s=0.5, end_s=1.5, peak_score=0.91, mean_score=0.8),
        ScreamEvent(start_s=4.0, end_s=5.5, peak_score=0.99, mean_score=0.95),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        analyze_recording.apply(args=[queued_recording.pk], throw=True)

    queued_recording.refresh_from_db()
    assert queued_recording.status == RecordingStatus.DONE
    assert queued_recording.model_version == FAKE_MODEL_VERSION
    detections = list(Detection.objects.order_by("start_s"))
    assert [(d.start_s, d.end_s, d.peak_score) for d in detections] == [(0.5, 1.5, 0.91), (4.0, 5.5, 0.99)]
    for detection in detections:
        assert detection.site == queued_recording.site
        assert detection.sensor == queued_recording.sensor
        assert detection.model_version == FAKE_MODEL_VERSION
        assert detection.occurred_at == queued_recording.recorded_at + timedelta(seconds=detection.start_s)

    # The clip is 2 s either side of the span, clipped to the recording (6 s long).
    expected_lengths = [1.5 - 0.0 + 2.0, 6.0 - 2.0]
    for detection, expected_s in zip(detections, expected_lengths, strict=True):
        assert detection.evidence_clip.name.endswith(".wav")
        with default_storage.open(detection.evidence_clip.name, "rb") as clip:
            decoded = decode_audio(clip.read())
        assert (decoded.container, decoded.codec, decoded.source_sample_rate, decoded.source_channels) == (
            "wav",
            "pcm_s16le",
            16_000,
            1,
        )
        assert decoded.duration_s == pytest.approx(expected_s, abs=0.01)
        with default_storage.open(detection.spectrogram.name, "rb") as picture:
            assert _png_size(picture.read()) == (800, 300)

    assert len(stored_signals) == 1
    recording, sent = stored_signals[0]
    assert recording.pk == queued_recording.pk
    assert sorted(d.pk for d in sent) == [d.pk for d in detections]


def test_analysis_without_events_is_done_and_sends_nothing(
    queued_recording, fake_engine, stored_signals, django_capture_on_commit_callbacks
):
    fake_engine.events = []

    with django_capture_on_commit_callbacks(execute=True):
        analyze_recording.apply(args=[queued_recording.pk], throw=True)

    queued_recording.refresh_from_db()
    assert queued_recording.status == RecordingStatus.DONE
    assert queued_recording.duration_s == pytest.approx(6.0, abs=0.01)
    assert Detection.objects.count() == 0
    assert stored_signals == []


def test_analysis_uses_the_sensors_threshold(queued_recording, fake_engine, monkeypatch):
    seen = []
    analyze = fake_engine.analyze
    monkeypatch.setattr(fake_engine, "analyze", lambda samples, **kw: seen.append(kw) or analyze(samples, **kw))
    queued_recording.sensor.threshold_override = 0.8
    queued_recording.sensor.save()

    analyze_recording.apply(args=[queued_recording.pk], throw=True)

    assert seen == [{"threshold": 0.8}]


def test_a_failure_while_writing_evidence_leaves_no_orphan_files(queued_recording, fake_engine, monkeypatch):
    fake_engine.events = [
        ScreamEvent(start_s=0.5, end_s=1.5, peak_score=0.91, mean_score=0.8),
        ScreamEvent(start_s=4.0, end_s=5.5, peak_score=0.99, mean_score=0.95),
    ]
    render = evidence.render_spectrogram
    calls = []

    def fail_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("out of memory while drawing")
        return render(*args, **kwargs)

    monkeypatch.setattr(evidence, "render_spectrogram", fail_on_second)
    files_before = stored_files(django_settings.MEDIA_ROOT)

    with pytest.raises(MemoryError):
        analyze_recording.apply(args=[queued_recording.pk], throw=True)

    assert stored_files(django_settings.MEDIA_ROOT) == files_before  # only the original upload
    assert Detection.objects.count() == 0
    queued_recording.refresh_from_db()
    assert queued_recording.status == RecordingStatus.FAILED
    assert "MemoryError" in queued_recording.error
