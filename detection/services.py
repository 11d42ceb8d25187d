"""Writes on recordings and detections: accepting uploads and analysing them.

``recording_create`` validates everything before it writes anything and leaves nothing behind when
it refuses or fails. ``recording_analyze`` is what the Celery task runs: it claims the recording
with a conditional UPDATE (one worker at a time), stores detections idempotently, writes their
evidence, and sends ``detections_stored`` after the transaction commits.
"""

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from detection import engine as detection_engine
from detection import evidence
from detection.audio import AudioError, AudioInfo, DecodedAudio, container_file_type, decode_audio, inspect_audio
from detection.engine import Analysis, ModelError, ScreamEvent, validate_threshold
from detection.models import (
    Detection,
    Recording,
    RecordingSource,
    RecordingStatus,
    evidence_clip_upload_to,
    recording_upload_to,
    spectrogram_upload_to,
)
from detection.receivers import delete_stored_files
from detection.selectors import recordings_past_retention
from detection.signals import audio_retention_holds, detections_stored, send_robust_logged
from outcry.models import User
from outcry.tasking import enqueue
from sites.models import Role, Sensor, SiteStatus
from sites.selectors import user_has_role

logger = logging.getLogger(__name__)

# A recording claimed this long ago and still "processing" belongs to a worker that died: the
# hard time limit would have killed any live one by then.
CLAIM_STALE_MARGIN_S = 60
MAX_ANALYSIS_ATTEMPTS = 3
# Failures another try may not meet: the database or the file storage was briefly unreachable.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)
_HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class _Inspected:
    checksum_sha256: str
    size_bytes: int
    audio: AudioInfo


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _check_sensor_accepts_uploads(*, sensor: Sensor, uploaded_by: User | None) -> None:
    if uploaded_by is not None and not user_has_role(user=uploaded_by, site=sensor.site, min_role=Role.OPERATOR):
        raise PermissionDenied("Uploading recordings needs the operator role at the sensor's site.")
    if not sensor.enabled:
        raise _refuse(
            f"The sensor '{sensor.name}' is disabled; enable it before sending it recordings.", "sensor_disabled"
        )
    if sensor.site.status != SiteStatus.ACTIVE:
        raise _refuse(
            f"The site '{sensor.site.name}' is {sensor.site.get_status_display().lower()}; it accepts no recordings.",
            "site_inactive",
        )


def _inspect_upload(file: File) -> _Inspected:
    """Size, checksum (streamed) and every decoding check, without keeping the decoded samples (an
    hour of audio would be hundreds of MB per request); raises ValidationError with a user-facing
    message. The worker decodes the stored file again to analyse it."""
    size = file.size if file.size is not None else 0
    if size > settings.UPLOAD_MAX_BYTES:
        raise _refuse(
            f"The file is {size / 1_048_576:.1f} MiB; the limit is {settings.UPLOAD_MAX_BYTES / 1_048_576:.1f} MiB.",
            "too_large",
        )
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    for chunk in file.chunks(_HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    if size == 0:
        raise _refuse("The file is empty.", "empty")
    if size > settings.UPLOAD_MAX_BYTES:
        raise _refuse(f"The file is larger than the limit of {settings.UPLOAD_MAX_BYTES} bytes.", "too_large")
    file.seek(0)
    temporary_path = getattr(file, "temporary_file_path", None)
    try:
        audio = inspect_audio(
            temporary_path() if temporary_path else file, max_duration_s=settings.UPLOAD_MAX_DURATION_S
        )
    except AudioError as exc:
        raise _refuse(exc.message, exc.code) from exc
    file.seek(0)
    return _Inspected(checksum_sha256=digest.hexdigest(), size_bytes=size, audio=audio)


def recording_create(
    *,
    file: File,
    sensor: Sensor,
    uploaded_by: User | None = None,
    source: str = RecordingSource.UPLOAD,
    recorded_at: datetime | None = None,
) -> Recording:
    """Accept audio from ``sensor`` (sent by ``uploaded_by``, or by the sensor itself when None).

    Refuses with ``PermissionDenied`` (the person is not an operator at the sensor's site) or
    ``ValidationError`` whose code says why (``too_large``, ``empty``, ``not_audio``, ``corrupt``,
    ``silent``, ``too_long``, ``sensor_disabled``, ``site_inactive``) before anything is written.
    Analysis is enqueued once the row is committed.
    """
    from detection.tasks import analyze_recording  # the task module imports this one

    _check_sensor_accepts_uploads(sensor=sensor, uploaded_by=uploaded_by)
    inspected = _inspect_upload(file)
    original_name = PurePosixPath(str(file.name or "").replace("\\", "/")).name[:255]

    suffix, _content_type = container_file_type(inspected.audio.container)
    # Named by what it decoded as, and written without the uploader's content type (a plain File):
    # an object store would otherwise serve "p.html" sent as text/html as a web page.
    stored_name = default_storage.save(recording_upload_to(None, f"audio{suffix}"), File(file))
    try:
        with transaction.atomic():
            recording = Recording(
                site=sensor.site,
                sensor=sensor,
                source=source,
                original_name=original_name,
                content_type=(getattr(file, "content_type", "") or "")[:100],
                size_bytes=inspected.size_bytes,
                container=inspected.audio.container[:32],
                codec=inspected.audio.codec[:32],
                source_sample_rate=inspected.audio.source_sample_rate or None,
                channels=inspected.audio.source_channels or None,
                duration_s=inspected.audio.duration_s,
                checksum_sha256=inspected.checksum_sha256,
                status=RecordingStatus.QUEUED,
                uploaded_by=uploaded_by,
                recorded_at=recorded_at or timezone.now(),
            )
            recording.file.name = stored_name
            recording.full_clean(exclude=["file"])
            recording.save()
    except BaseException:
        default_storage.delete(stored_name)
        raise
    # Outside the block above: once the row exists its file must stay, even if dispatch fails.
    try:
        enqueue(analyze_recording, recording.pk)
    except Exception:
        logger.exception(
            "could not dispatch the analysis of recording %s; the periodic sweep will send it again", recording.pk
        )
    return recording


def recording_delete(*, recording: Recording) -> None:
    """Delete a recording and its detections; their stored files go once this commits (receivers)."""
    with transaction.atomic():
        recording.delete()


# --- analysis ---------------------------------------------------------------------------------------


class RecordingBusy(Exception):
    """Another worker claimed the recording recently; try again once its claim could be stale."""


def _claim_stale_after() -> timedelta:
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + CLAIM_STALE_MARGIN_S)


def _claimable(now: datetime) -> Q:
    return Q(status=RecordingStatus.QUEUED) | Q(
        status=RecordingStatus.PROCESSING, started_at__lt=now - _claim_stale_after()
    )


def recording_claim(*, recording_id: int) -> bool:
    """Move the recording to ``processing`` for this worker; False when there is nothing to do.

    One conditional UPDATE, so two workers cannot both win: a queued recording, or one whose
    processing claim is older than the hard time limit (its worker died), is claimed and its
    ``attempts`` counted. A claimable recording out of attempts is marked failed instead.
    Raises ``RecordingBusy`` when a live claim holds it.
    """
    now = timezone.now()
    claimable = Recording.objects.filter(_claimable(now), pk=recording_id)
    if claimable.filter(attempts__lt=MAX_ANALYSIS_ATTEMPTS).update(
        status=RecordingStatus.PROCESSING, attempts=F("attempts") + 1, started_at=now, finished_at=None, error=""
    ):
        return True
    if claimable.update(
        status=RecordingStatus.FAILED,
        error=f"Analysis did not finish in {MAX_ANALYSIS_ATTEMPTS} attempts (interrupted or temporary errors).",
        finished_at=now,
    ):
        return False
    status = Recording.objects.filter(pk=recording_id).values_list("status", flat=True).first()
    if status is None or status in (RecordingStatus.DONE, RecordingStatus.FAILED):
        return False
    raise RecordingBusy(f"recording {recording_id} is being analysed by another worker")


def recording_requeue_stalled(*, queued_for_s: float) -> list[int]:
    """Enqueue analysis again for recordings stuck on the way: queued for longer than ``queued_for_s``
    (the dispatch was lost: broker down at commit, a server restarted with work in its thread pool)
    or holding a stale claim (the worker died). Safe to repeat: the claim lets only one run work.
    """
    from detection.tasks import analyze_recording  # the task module imports this one

    now = timezone.now()
    stalled = Q(status=RecordingStatus.QUEUED, created_at__lt=now - timedelta(seconds=queued_for_s)) | Q(
        status=RecordingStatus.PROCESSING, started_at__lt=now - _claim_stale_after()
    )
    recording_ids = list(Recording.objects.filter(stalled).order_by("created_at").values_list("pk", flat=True)[:500])
    for recording_id in recording_ids:
        enqueue(analyze_recording, recording_id)
    return recording_ids


def recording_release(*, recording_id: int) -> None:
    """Hand a claimed recording back to the queue after a transient failure (another try will claim it)."""
    Recording.objects.filter(pk=recording_id, status=RecordingStatus.PROCESSING).update(
        status=RecordingStatus.QUEUED, started_at=None
    )


def recording_fail(*, recording_id: int, error: str) -> None:
    """Record a permanent failure: the recording will not be analysed again by itself."""
    Recording.objects.filter(pk=recording_id).exclude(status=RecordingStatus.DONE).update(
        status=RecordingStatus.FAILED, error=error, finished_at=timezone.now()
    )


def _decode_stored(recording: Recording) -> DecodedAudio:
    """Decode the stored original; spooled through a local temporary file so S3 works as well as disk."""
    with default_storage.open(recording.file.name, "rb") as stored, tempfile.TemporaryFile() as local:
        for chunk in iter(lambda: stored.read(_HASH_CHUNK), b""):
            local.write(chunk)
        local.seek(0)
        return decode_audio(local, max_duration_s=settings.UPLOAD_MAX_DURATION_S)


def _threshold_for(sensor: Sensor) -> float | None:
    """The sensor's threshold (override, else the site's default); None = the model's own."""
    try:
        return validate_threshold(sensor.effective_threshold)
    except (TypeError, ValueError):
        return None


def recording_analyze(*, recording_id: int) -> Recording | None:
    """Analyse one recording; idempotent. Returns it (done or failed), or None when there was nothing to do.

    Permanent problems (undecodable audio, an unusable model, a bug) mark it failed with a readable
    error. Transient ones (``TRANSIENT_ERRORS``: database, storage) hand it back to the queue and
    propagate so the caller can retry. ``RecordingBusy`` propagates when another worker holds a live claim.
    """
    if not recording_claim(recording_id=recording_id):
        return None
    try:
        recording = Recording.objects.select_related("sensor", "site").get(pk=recording_id)
        try:
            decoded = _decode_stored(recording)
            # Through the module, so a test anywhere can patch detection.engine.get_engine.
            analysis = detection_engine.get_engine().analyze(
                decoded.samples, threshold=_threshold_for(recording.sensor)
            )
        except AudioError as exc:
            recording_fail(recording_id=recording_id, error=f"The audio could not be analysed: {exc.message}")
            return Recording.objects.get(pk=recording_id)
        except ModelError as exc:
            recording_fail(recording_id=recording_id, error=f"The detection model is unavailable: {exc}")
            return Recording.objects.get(pk=recording_id)
        _store_detections(recording=recording, decoded=decoded, analysis=analysis)
    except TRANSIENT_ERRORS:
        recording_release(recording_id=recording_id)
        raise
    except Exception as exc:
        recording_fail(recording_id=recording_id, error=f"Analysis failed unexpectedly ({type(exc).__name__}: {exc}).")
        raise
    return Recording.objects.get(pk=recording_id)


def _event_key(event: ScreamEvent) -> float:
    # Offsets rounded to the millisecond so a re-run with the same model finds the same rows.
    return round(float(event.start_s), 3)


def _store_detections(*, recording: Recording, decoded: DecodedAudio, analysis: Analysis) -> None:
    existing = set(
        Detection.objects.filter(recording=recording, model_version=analysis.model_version).values_list(
            "start_s", flat=True
        )
    )
    events = {_event_key(event): event for event in analysis.events}
    # Evidence is rendered and stored before the transaction, so the rows never point at files
    # that do not exist; files of rows that end up not created are deleted again.
    rendered: dict[float, tuple[str, str]] = {}
    try:
        for start_s, event in events.items():
            if start_s not in existing:
                rendered[start_s] = _save_evidence(recording=recording, decoded=decoded, event=event, start_s=start_s)
        created: list[Detection] = []
        unused_names: list[str] = []
        with transaction.atomic():
            for start_s, (clip_name, spectrogram_name) in rendered.items():
                event = events[start_s]
                detection, is_new = Detection.objects.get_or_create(
                    recording=recording,
                    model_version=analysis.model_version,
                    start_s=start_s,
                    defaults={
                        "sensor_id": recording.sensor_id,
                        "site_id": recording.site_id,
                        "end_s": round(float(event.end_s), 3),
                        "peak_score": float(event.peak_score),
                        "mean_score": float(event.mean_score),
                        "occurred_at": Detection.occurred_at_for(recording, start_s),
                        "evidence_clip": clip_name,
                        "spectrogram": spectrogram_name,
                    },
                )
                if is_new:
                    created.append(detection)
                else:  # stored meanwhile by another run: its files are the ones to keep
                    unused_names += [clip_name, spectrogram_name]
            Recording.objects.filter(pk=recording.pk).update(
                status=RecordingStatus.DONE,
                model_version=analysis.model_version,
                duration_s=analysis.duration_s,
                error="",
                finished_at=timezone.now(),
            )
    except BaseException:
        delete_stored_files([name for names in rendered.values() for name in names])
        raise
    # Registered after the block so that a failing callback cannot look like a failed write. Outside
    # any transaction they run at once; inside a caller's, when it commits.
    transaction.on_commit(lambda: delete_stored_files(unused_names))
    if created:
        transaction.on_commit(lambda: _send_detections_stored(recording_id=recording.pk, detections=created))


def _save_evidence(
    *, recording: Recording, decoded: DecodedAudio, event: ScreamEvent, start_s: float
) -> tuple[str, str]:
    clip_start, clip_end = evidence.clip_bounds(start_s=start_s, end_s=event.end_s, duration_s=decoded.duration_s)
    samples = evidence.clip_samples(decoded.samples, decoded.sample_rate, start_s=clip_start, end_s=clip_end)
    clip = evidence.render_clip(samples, decoded.sample_rate)
    picture = evidence.render_spectrogram(
        samples,
        decoded.sample_rate,
        offset_s=clip_start,
        span=(start_s, min(event.end_s, decoded.duration_s)),
        title=f"{recording.sensor.name}: scream probability {event.peak_score:.2f}",
    )
    clip_name = default_storage.save(evidence_clip_upload_to(None, ""), ContentFile(clip))
    try:
        spectrogram_name = default_storage.save(spectrogram_upload_to(None, ""), ContentFile(picture))
    except BaseException:
        default_storage.delete(clip_name)
        raise
    return clip_name, spectrogram_name


def _send_detections_stored(*, recording_id: int, detections: list[Detection]) -> None:
    recording = Recording.objects.select_related("sensor", "site").get(pk=recording_id)
    send_robust_logged(
        detections_stored,
        about=f"recording {recording_id}",
        sender=Recording,
        recording=recording,
        detections=detections,
    )


# --- retention ----------------------------------------------------------------------------------------


@dataclass
class AudioPurge:
    """What one run of the retention purge did (or, dry, would do)."""

    recordings_deleted: int = 0  # past retention with no detections: row and file
    audio_deleted: int = 0  # with detections: file and clips; the row, detections and spectrograms stay
    held: int = 0  # kept beyond retention by an ``audio_retention_holds`` receiver
    failed: int = 0  # storage errors; left as they were, tried again on the next run


# Recordings one purge run handles (a few milliseconds each): 120,000 a day at the hourly runs, enough
# for sites that keep continuous stream audio (1,440 recordings a day per sensor).
PURGE_LIMIT = 5000


def recordings_purge_expired_audio(
    *, now: datetime | None = None, limit: int = PURGE_LIMIT, dry_run: bool = False
) -> AudioPurge:
    """Delete the audio that is past its site's retention (at most ``limit`` recordings per run).

    A recording with no detections goes entirely; one with detections loses its audio (the file
    and the evidence clips) and gets ``audio_deleted_at``, so the record of what was heard, the
    spectrograms and any incident outlive the audio. Recordings a receiver of
    ``audio_retention_holds`` returns are kept. Files are deleted before the rows change: a
    storage error leaves the recording as it was, for the next run, and never orphans audio.
    """
    now = now or timezone.now()
    expired = recordings_past_retention(now=now)
    held: set[int] = set()
    for _receiver, held_ids in audio_retention_holds.send(sender=Recording, recordings=expired):
        held.update(held_ids)
    report = AudioPurge(held=len(held))
    for recording in expired.exclude(pk__in=held)[:limit]:
        if dry_run:
            if recording.detection_count:
                report.audio_deleted += 1
            else:
                report.recordings_deleted += 1
            continue
        clips = list(
            Detection.objects.filter(recording=recording)
            .exclude(evidence_clip="")
            .values_list("evidence_clip", flat=True)
        )
        try:
            for name in [recording.file.name, *clips]:
                if name:
                    default_storage.delete(name)
        except Exception:
            logger.exception(
                "retention: could not delete the audio of recording %s; next run tries again", recording.pk
            )
            report.failed += 1
            continue
        if recording.detection_count:
            with transaction.atomic():
                Detection.objects.filter(recording=recording).update(evidence_clip="")
                Recording.objects.filter(pk=recording.pk).update(file="", audio_deleted_at=now)
            report.audio_deleted += 1
        else:
            recording_delete(recording=recording)
            report.recordings_deleted += 1
    return report
