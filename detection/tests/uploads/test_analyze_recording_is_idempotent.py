"""Running the analysis again changes nothing: no new rows, no new files, no second signal."""

import pytest
from django.conf import settings as django_settings

from detection.engine import ScreamEvent
from detection.models import Detection, Recording, RecordingStatus
from detection.services import recording_analyze
from detection.tasks import analyze_recording
from detection.tests.uploads.support import stored_files

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        list(Recording.objects.values("status", "model_version", "attempts", "error")),
        list(Detection.objects.order_by("pk").values()),
        stored_files(django_settings.MEDIA_ROOT),
    )


def test_running_the_task_twice_changes_nothing_and_signals_once(
    queued_recording, fake_engine, stored_signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        analyze_recording.apply(args=[queued_recording.pk], throw=True)
    first = _snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        analyze_recording.apply(args=[queued_recording.pk], throw=True)

    assert _snapshot() == first
    assert Detection.objects.count() == 1
    assert len(stored_signals) == 1
    assert fake_engine.calls == 1  # a done recording is not even decoded again


def test_a_redelivered_run_stores_only_the_detections_that_are_new(
    queued_recording, fake_engine, stored_signals, django_capture_on_commit_callbacks
):
    """A worker died after storing some detections: the next run adds the rest and announces only those."""
    with django_capture_on_commit_callbacks(execute=True):
        recording_analyze(recording_id=queued_recording.pk)
    first = Detection.objects.get()
    Recording.objects.filter(pk=queued_recording.pk).update(status=RecordingStatus.QUEUED)
    fake_engine.events = [*fake_engine.events, ScreamEvent(start_s=4.5, end_s=5.0, peak_score=0.8, mean_score=0.7)]
    files_before = len(stored_files(django_settings.MEDIA_ROOT))

    with django_capture_on_commit_callbacks(execute=True):
        recording_analyze(recording_id=queued_recording.pk)

    assert Detection.objects.count() == 2
    assert Detection.objects.get(pk=first.pk).evidence_clip.name == first.evidence_clip.name
    assert [[d.start_s for d in detections] for _, detections in stored_signals] == [[2.0], [4.5]]
    assert len(stored_files(django_settings.MEDIA_ROOT)) == files_before + 2  # one clip, one spectrogram
