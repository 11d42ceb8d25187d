"""Audio is kept for its site's retention (AUDIO_RETENTION_DAYS unless the site sets its own), then
deleted: a recording in which nothing was heard goes entirely; one with detections loses its file
and evidence clips but keeps its detections and spectrograms; held, recent and in-flight audio stays."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from detection.models import Detection, Recording, RecordingStatus
from detection.services import recording_analyze, recording_create, recordings_purge_expired_audio
from detection.signals import audio_retention_holds
from detection.tests.uploads.support import audio_upload, stored_files
from sites.services import site_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(upload_world, fake_engine):
    """``stored(age_days, heard=True, sensor=...)``: an analysed upload created ``age_days`` ago."""

    heard_events = list(fake_engine.events)

    def make(age_days: float, *, heard: bool = True, sensor=None) -> Recording:
        fake_engine.events = heard_events if heard else []
        recording = recording_create(file=audio_upload(), sensor=sensor or upload_world.sensor)
        recording_analyze(recording_id=recording.pk)
        Recording.objects.filter(pk=recording.pk).update(created_at=timezone.now() - timedelta(days=age_days))
        recording.refresh_from_db()
        return recording

    return make


def purge(**options):
    return recordings_purge_expired_audio(**options)


def exists(name: str) -> bool:
    return bool(name) and default_storage.exists(name)


def test_expired_recording_in_which_nothing_was_heard_is_deleted_with_its_file(
    stored, settings, django_capture_on_commit_callbacks
):
    settings.AUDIO_RETENTION_DAYS = 30
    recording = stored(31, heard=False)
    assert exists(recording.file.name)

    with django_capture_on_commit_callbacks(execute=True):
        report = purge()

    assert (report.recordings_deleted, report.audio_deleted, report.held, report.failed) == (1, 0, 0, 0)
    assert not Recording.objects.filter(pk=recording.pk).exists()
    assert stored_files(django_settings.MEDIA_ROOT) == []


def test_expired_recording_with_detections_loses_its_audio_and_keeps_what_was_heard(stored, settings):
    settings.AUDIO_RETENTION_DAYS = 30
    recording = stored(31)
    detection = Detection.objects.get(recording=recording)
    audio, clip, picture = recording.file.name, detection.evidence_clip.name, detection.spectrogram.name
    assert all(exists(name) for name in (audio, clip, picture))

    report = purge()

    assert (report.recordings_deleted, report.audio_deleted) == (0, 1)
    recording.refresh_from_db()
    detection.refresh_from_db()
    assert recording.audio_deleted_at is not None and recording.file.name == ""
    assert recording.status == RecordingStatus.DONE and recording.duration_s == pytest.approx(6.0)
    assert detection.evidence_clip.name == "" and detection.peak_score == pytest.approx(0.97)
    assert not exists(audio) and not exists(clip)
    assert exists(picture)  # the spectrogram is a picture, not audio: it stays with the record
    assert [Path(path).name for path in stored_files(django_settings.MEDIA_ROOT)] == [Path(picture).name]


def test_recent_audio_and_analyses_in_flight_are_kept(stored, settings):
    settings.AUDIO_RETENTION_DAYS = 30
    recent = stored(29)
    for status in (RecordingStatus.QUEUED, RecordingStatus.PROCESSING):
        Recording.objects.filter(pk=stored(60).pk).update(status=status)

    report = purge()

    assert (report.recordings_deleted, report.audio_deleted) == (0, 0)
    assert Recording.objects.filter(audio_deleted_at__isnull=False).count() == 0
    assert exists(Recording.objects.get(pk=recent.pk).file.name)


def test_a_site_keeps_its_audio_for_its_own_number_of_days(stored, upload_world, settings):
    settings.AUDIO_RETENTION_DAYS = 30
    site_update(site=upload_world.own, data={"audio_retention_days": 7})
    short = stored(8)  # the own site keeps 7 days
    default = stored(8, sensor=upload_world.other_sensor)  # the other site keeps the server's 30
    site_update(site=upload_world.other, data={"audio_retention_days": 90})
    long_kept = stored(60, sensor=upload_world.other_sensor)

    assert purge().audio_deleted == 1

    assert Recording.objects.get(pk=short.pk).audio_deleted_at is not None
    assert Recording.objects.get(pk=default.pk).audio_deleted_at is None
    assert Recording.objects.get(pk=long_kept.pk).audio_deleted_at is None


def test_recordings_a_receiver_holds_are_kept(stored, settings):
    settings.AUDIO_RETENTION_DAYS = 30
    held, expired = stored(40), stored(40)

    def hold(sender, *, recordings, **kwargs):
        return {recording.pk for recording in recordings if recording.pk == held.pk}

    audio_retention_holds.connect(hold, weak=False, dispatch_uid="test-hold")
    try:
        report = purge()
    finally:
        audio_retention_holds.disconnect(dispatch_uid="test-hold")

    assert (report.audio_deleted, report.held) == (1, 1)
    assert Recording.objects.get(pk=held.pk).audio_deleted_at is None and exists(held.file.name)
    assert Recording.objects.get(pk=expired.pk).audio_deleted_at is not None


def test_a_storage_error_leaves_the_recording_as_it_was_for_the_next_run(stored, settings, monkeypatch):
    settings.AUDIO_RETENTION_DAYS = 30
    recording = stored(40)

    def broken_delete(name):
        raise OSError("the bucket is unreachable")

    monkeypatch.setattr(default_storage, "delete", broken_delete)
    report = purge()
    monkeypatch.undo()

    assert (report.audio_deleted, report.failed) == (0, 1)
    recording.refresh_from_db()
    assert recording.audio_deleted_at is None and exists(recording.file.name)
    assert purge().audio_deleted == 1  # the next run deletes it


def test_a_dry_run_changes_nothing_and_a_second_run_finds_nothing(stored, settings):
    settings.AUDIO_RETENTION_DAYS = 30
    stored(40)
    stored(40, heard=False)
    files = stored_files(django_settings.MEDIA_ROOT)

    dry = purge(dry_run=True)

    assert (dry.recordings_deleted, dry.audio_deleted) == (1, 1)
    assert stored_files(django_settings.MEDIA_ROOT) == files
    assert Recording.objects.filter(audio_deleted_at__isnull=False).count() == 0
    assert purge().audio_deleted == 1
    again = purge()
    assert (again.recordings_deleted, again.audio_deleted, again.failed) == (0, 0, 0)


def test_the_command_reports_and_refuses_a_bad_limit(stored, settings, capsys):
    settings.AUDIO_RETENTION_DAYS = 30
    stored(40)

    call_command("purge_expired_audio", "--dry-run")
    output = capsys.readouterr().out
    assert "Would delete 0 recording(s) with no detections and the audio of 1 with detections" in output
    call_command("purge_expired_audio")
    assert "Deleted 0 recording(s) with no detections and the audio of 1" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--limit: must be 1 or more, not 0"):
        call_command("purge_expired_audio", "--limit", "0")


def test_deleted_audio_answers_410_and_the_record_says_when(stored, settings, client_for, upload_world):
    settings.AUDIO_RETENTION_DAYS = 30
    recording = stored(40)
    detection = Detection.objects.get(recording=recording)
    purge()
    client = client_for(upload_world.viewer)

    body = client.get(f"/api/v1/recordings/{recording.pk}/").json()
    assert body["file_url"] is None and body["audio_deleted_at"] is not None
    for path in (f"/api/v1/recordings/{recording.pk}/file/", f"/api/v1/detections/{detection.pk}/clip/"):
        response = client.get(path)
        assert response.status_code == 410, path
        assert response.json()["error"]["code"] == "audio_deleted"
        assert "retention policy" in response.json()["error"]["message"]
    detection_body = client.get(f"/api/v1/detections/{detection.pk}/").json()
    assert detection_body["evidence_clip_url"] is None and detection_body["spectrogram_url"] is not None
    assert client.get(f"/api/v1/detections/{detection.pk}/spectrogram/").status_code == 200


def test_the_purge_runs_every_hour():
    from detection.tasks import PURGE_EXPIRED_AUDIO_EVERY_S, purge_expired_audio
    from outcry.celery import app

    entry = app.conf.beat_schedule["detection.purge_expired_audio"]
    assert entry["task"] == purge_expired_audio.name
    assert entry["schedule"] == PURGE_EXPIRED_AUDIO_EVERY_S == 3600.0


def test_a_run_handles_at_most_its_limit_oldest_first(stored, settings):
    settings.AUDIO_RETENTION_DAYS = 30
    oldest, middle, newest = stored(50), stored(45), stored(40)

    assert purge(limit=2).audio_deleted == 2
    assert [Recording.objects.get(pk=r.pk).audio_deleted_at is not None for r in (oldest, middle, newest)] == [
        True,
        True,
        False,
    ]
    assert purge(limit=2).audio_deleted == 1
