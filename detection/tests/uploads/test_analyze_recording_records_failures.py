"""Permanent failures are recorded on the recording in words and never retried; transient ones are."""

import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError

from detection.engine import ModelError
from detection.models import Detection, Recording, RecordingStatus
from detection.services import recording_analyze
from detection.tasks import analyze_recording

pytestmark = pytest.mark.django_db


def _overwrite_stored(recording: Recording, data: bytes) -> None:
    with default_storage.open(recording.file.name, "wb") as stored:
        stored.write(data)


def test_undecodable_stored_audio_marks_the_recording_failed(queued_recording, fake_engine, stored_signals):
    _overwrite_stored(queued_recording, b"this is no longer audio" * 10)

    analyze_recording.apply(args=[queued_recording.pk], throw=True)

    queued_recording.refresh_from_db()
    assert queued_recording.status == RecordingStatus.FAILED
    assert queued_recording.error.startswith("The audio could not be analysed: ")
    assert "not an audio file" in queued_recording.error
    assert queued_recording.finished_at is not None
    assert fake_engine.calls == 0
    assert Detection.objects.count() == 0
    assert stored_signals == []


def test_an_unusable_model_marks_the_recording_failed(queued_recording, monkeypatch):
    def broken_engine():
        raise ModelError("No model at /srv/model.onnx: export one with train_detector.")

    monkeypatch.setattr("detection.engine.get_engine", broken_engine)

    analyze_recording.apply(args=[queued_recording.pk], throw=True)

    queued_recording.refresh_from_db()
    assert queued_recording.status == RecordingStatus.FAILED
    assert queued_recording.error == (
        "The detection model is unavailable: No model at /srv/model.onnx: export one with train_detector."
    )


def test_a_failed_recording_is_not_analysed_again(queued_recording, fake_engine):
    Recording.objects.filter(pk=queued_recording.pk).update(status=RecordingStatus.FAILED, error="earlier failure")

    assert recording_analyze(recording_id=queued_recording.pk) is None

    queued_recording.refresh_from_db()
    assert (queued_recording.status, queued_recording.error, fake_engine.calls) == (
        RecordingStatus.FAILED,
        "earlier failure",
        0,
    )


def test_a_transient_error_hands_the_recording_back_to_the_queue(queued_recording, fake_engine):
    fake_engine.error = OperationalError("server closed the connection unexpectedly")

    with pytest.raises(OperationalError):
        recording_analyze(recording_id=queued_recording.pk)

    queued_recording.refresh_from_db()
    assert queued_recording.status == RecordingStatus.QUEUED
    assert queued_recording.attempts == 1
    fake_engine.error = None
    assert recording_analyze(recording_id=queued_recording.pk).status == RecordingStatus.DONE


def test_the_task_retries_a_transient_error_with_backoff(queued_recording, fake_engine, monkeypatch):
    fake_engine.error = OSError("storage unreachable")
    retries = []

    def fake_retry(*, exc, countdown):
        retries.append((type(exc), countdown))
        return RuntimeError("retry scheduled")

    monkeypatch.setattr(analyze_recording, "retry", fake_retry)
    analyze_recording.push_request(retries=1, is_eager=False)  # as a worker's second try sees it
    try:
        with pytest.raises(RuntimeError, match="retry scheduled"):
            analyze_recording.run(queued_recording.pk)
    finally:
        analyze_recording.pop_request()

    assert retries == [(OSError, 30)]
    queued_recording.refresh_from_db()
    assert queued_recording.status == RecordingStatus.QUEUED


def test_an_unexpected_error_is_recorded_and_raised(queued_recording, fake_engine):
    fake_engine.error = KeyError("window")

    with pytest.raises(KeyError):
        recording_analyze(recording_id=queued_recording.pk)

    queued_recording.refresh_from_db()
    assert queued_recording.status == RecordingStatus.FAILED
    assert queued_recording.error == "Analysis failed unexpectedly (KeyError: 'window')."


def test_in_process_a_transient_error_is_tried_again_in_place(queued_recording, fake_engine, monkeypatch, caplog):
    """The embedded pool cannot schedule a retry: a table locked for a moment must not fail the upload."""
    waits = []

    def sleep_then_recover(seconds):
        waits.append(seconds)
        fake_engine.error = None

    fake_engine.error = OperationalError("database table is locked: detection_recording")
    monkeypatch.setattr("detection.tasks.time.sleep", sleep_then_recover)

    analyze_recording.apply(args=[queued_recording.pk], throw=True)

    queued_recording.refresh_from_db()
    assert (queued_recording.status, queued_recording.attempts, fake_engine.calls) == (RecordingStatus.DONE, 2, 2)
    assert waits == [0.5]
    assert "database table is locked: detection_recording; trying again in 0.5 s" in caplog.text


def test_in_process_a_lasting_transient_error_fails_after_three_tries(queued_recording, fake_engine, monkeypatch):
    waits = []
    fake_engine.error = OSError("storage unreachable")
    monkeypatch.setattr("detection.tasks.time.sleep", waits.append)

    with pytest.raises(OSError):
        analyze_recording.apply(args=[queued_recording.pk], throw=True)

    queued_recording.refresh_from_db()
    assert (queued_recording.status, queued_recording.attempts, fake_engine.calls) == (RecordingStatus.FAILED, 3, 3)
    assert queued_recording.error == "Analysis failed after 3 tries: storage unreachable"
    assert waits == [0.5, 2.0]
