"""One worker at a time: the claim is a conditional UPDATE; a dead worker's claim goes stale."""

from datetime import timedelta

import pytest
from django.utils import timezone

from detection import services
from detection.models import Recording, RecordingStatus
from detection.services import MAX_ANALYSIS_ATTEMPTS, RecordingBusy, recording_analyze, recording_claim
from detection.tasks import analyze_recording
from detection.tests.uploads.support import audio_upload

pytestmark = pytest.mark.django_db


def _state(recording: Recording) -> tuple[str, int]:
    recording.refresh_from_db()
    return recording.status, recording.attempts


def test_a_recording_is_claimed_once(queued_recording):
    assert recording_claim(recording_id=queued_recording.pk) is True

    with pytest.raises(RecordingBusy):
        recording_claim(recording_id=queued_recording.pk)
    assert _state(queued_recording) == (RecordingStatus.PROCESSING, 1)


def test_a_second_worker_does_not_analyse_a_claimed_recording(queued_recording, fake_engine):
    recording_claim(recording_id=queued_recording.pk)

    with pytest.raises(RecordingBusy):
        recording_analyze(recording_id=queued_recording.pk)
    assert analyze_recording.apply(args=[queued_recording.pk], throw=True).result is None  # in-process: skip

    assert fake_engine.calls == 0
    assert _state(queued_recording) == (RecordingStatus.PROCESSING, 1)


def test_a_stale_claim_of_a_dead_worker_is_taken_over(queued_recording, fake_engine, settings):
    recording_claim(recording_id=queued_recording.pk)
    Recording.objects.filter(pk=queued_recording.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 120)
    )

    assert recording_analyze(recording_id=queued_recording.pk).status == RecordingStatus.DONE

    assert fake_engine.calls == 1
    assert _state(queued_recording) == (RecordingStatus.DONE, 2)


def test_a_recording_out_of_attempts_is_failed_instead_of_claimed(queued_recording, fake_engine):
    Recording.objects.filter(pk=queued_recording.pk).update(attempts=MAX_ANALYSIS_ATTEMPTS)

    assert recording_claim(recording_id=queued_recording.pk) is False

    queued_recording.refresh_from_db()
    assert queued_recording.status == RecordingStatus.FAILED
    assert f"{MAX_ANALYSIS_ATTEMPTS} attempts" in queued_recording.error


def test_a_done_or_missing_recording_is_not_claimed(queued_recording):
    Recording.objects.filter(pk=queued_recording.pk).update(status=RecordingStatus.DONE)

    assert recording_claim(recording_id=queued_recording.pk) is False
    assert recording_claim(recording_id=queued_recording.pk + 1000) is False
    assert _state(queued_recording) == (RecordingStatus.DONE, 0)


def test_the_sweep_redispatches_lost_and_abandoned_recordings(queued_recording, monkeypatch):
    dispatched = []
    monkeypatch.setattr(services, "enqueue", lambda task, recording_id: dispatched.append(recording_id))
    long_ago = timezone.now() - timedelta(hours=1)
    fresh = services.recording_create(file=audio_upload(), sensor=queued_recording.sensor)
    abandoned = services.recording_create(file=audio_upload(), sensor=queued_recording.sensor)
    dispatched.clear()
    Recording.objects.filter(pk=queued_recording.pk).update(created_at=long_ago)
    Recording.objects.filter(pk=abandoned.pk).update(status=RecordingStatus.PROCESSING, started_at=long_ago)

    assert sorted(services.recording_requeue_stalled(queued_for_s=600)) == sorted([queued_recording.pk, abandoned.pk])
    assert sorted(dispatched) == sorted([queued_recording.pk, abandoned.pk])
    assert fresh.pk not in dispatched
