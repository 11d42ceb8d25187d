"""Writes for live streams: stream segments around detections, continuous audio, sensor health.

A stream segment is stored in two steps so that the alert does not wait for the scream to end:

1. ``stream_segment_open`` as soon as a window passes the threshold: the audio from
   ``PRE_ROLL_S`` before the onset up to now becomes a ``Recording(source=stream)`` with one
   ``Detection`` and its evidence clip; after commit, ``detections_stored`` is sent (from a task,
   so the alerts raise the incident exactly as they do for uploads).
2. ``stream_segment_close`` when the event has ended and ``POST_ROLL_S`` more audio has arrived
   (or it ran for ``MAX_EVENT_S``): the recording's audio, the detection's span and scores and its
   evidence are replaced by the complete ones. Nothing new was detected, so ``detections_stored``
   is not sent again; but when the scream's peak is higher than its onset's, ``detection_rescored``
   is (from a task), so the incident's score and priority follow the whole scream.
"""

import hashlib
import io
import logging
import wave
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from detection import evidence
from detection.models import (
    Detection,
    Recording,
    RecordingSource,
    RecordingStatus,
    evidence_clip_upload_to,
    recording_upload_to,
    spectrogram_upload_to,
)
from detection.signals import detection_rescored, detections_stored, send_robust_logged
from detection.streaming.protocol import CloseCode, ProtocolError
from detection.streaming.tokens import issuer_may_stream
from outcry.realtime import broadcast_after_commit
from outcry.tasking import enqueue
from sites.models import Sensor, Site, SiteStatus
from sites.selectors import site_managers

logger = logging.getLogger(__name__)

SEGMENT_SAMPLE_RATE = 16_000


def site_sensors_group(site_id: int) -> str:
    """The channel-layer group for a site's sensor health (``sensor.status`` messages).

    Not the incidents group: a console consumer without a ``sensor_status`` handler would crash on
    a message type it does not know, so consoles join this group when they can show sensor health.
    """
    return f"site.{site_id}.sensors"


def _wav_bytes(samples: np.ndarray) -> bytes:
    return evidence.render_clip(samples, SEGMENT_SAMPLE_RATE)


def read_wav(name: str) -> np.ndarray:
    """A stored 16-bit mono WAV as float32 samples."""
    with default_storage.open(name, "rb") as stored, wave.open(io.BytesIO(stored.read()), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def _save(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


def _stream_recording(
    *,
    sensor: Sensor,
    name_prefix: str,
    content: bytes,
    sample_count: int,
    source_sample_rate: int,
    model_version: str,
    recorded_at,
    **state,
) -> Recording:
    """An unsaved stream Recording for a 16-kHz mono WAV segment; ``state`` sets status and times."""
    return Recording(
        site_id=sensor.site_id,
        sensor=sensor,
        source=RecordingSource.STREAM,
        original_name=f"{name_prefix}-{sensor.pk}-{recorded_at:%Y%m%dT%H%M%S}.wav",
        content_type="audio/wav",
        size_bytes=len(content),
        container="wav",
        codec="pcm_s16le",
        source_sample_rate=source_sample_rate,
        channels=1,
        duration_s=sample_count / SEGMENT_SAMPLE_RATE,
        checksum_sha256=hashlib.sha256(content).hexdigest(),
        model_version=model_version,
        recorded_at=recorded_at,
        **state,
    )


def _clip(samples: np.ndarray, *, start_s: float, end_s: float) -> tuple[bytes, float]:
    """The evidence clip of a detection at [start_s, end_s] of a segment, and its offset in the segment."""
    duration_s = len(samples) / SEGMENT_SAMPLE_RATE
    clip_start, clip_end = evidence.clip_bounds(start_s=start_s, end_s=end_s, duration_s=duration_s)
    clip = evidence.clip_samples(samples, SEGMENT_SAMPLE_RATE, start_s=clip_start, end_s=clip_end)
    return evidence.render_clip(clip, SEGMENT_SAMPLE_RATE), clip_start


def _delete_quietly(*names: str) -> None:
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except OSError:
                logger.warning("could not delete stored file %s", name, exc_info=True)


def stream_segment_open(
    *,
    sensor_id: int,
    samples: np.ndarray,
    recorded_at: datetime,
    onset_s: float,
    end_s: float,
    peak_score: float,
    mean_score: float,
    model_version: str,
    source_sample_rate: int,
) -> tuple[int, int]:
    """Store the first part of a stream segment and its detection; returns (recording id, detection id).

    ``samples`` are 16 kHz mono from the segment's start (``recorded_at``); the detection spans
    ``onset_s``..``end_s`` of them.
    """
    from detection.streaming.tasks import stream_detection_announce

    sensor = Sensor.objects.select_related("site").get(pk=sensor_id)
    content = _wav_bytes(samples)
    file_name = _save(recording_upload_to(None, "segment.wav"), content)
    clip, _offset = _clip(samples, start_s=onset_s, end_s=end_s)
    clip_name = _save(evidence_clip_upload_to(None, ""), clip)
    try:
        with transaction.atomic():
            now = timezone.now()
            recording = _stream_recording(
                sensor=sensor,
                name_prefix="stream",
                content=content,
                sample_count=len(samples),
                source_sample_rate=source_sample_rate,
                model_version=model_version,
                recorded_at=recorded_at,
                # Still being recorded: the segment is completed by stream_segment_close.
                status=RecordingStatus.PROCESSING,
                attempts=1,
                started_at=now,
            )
            recording.file.name = file_name
            recording.save()
            start_key = round(onset_s, 3)
            detection = Detection.objects.create(
                recording=recording,
                sensor=sensor,
                site_id=sensor.site_id,
                start_s=start_key,
                end_s=round(end_s, 3),
                peak_score=peak_score,
                mean_score=mean_score,
                model_version=model_version,
                occurred_at=Detection.occurred_at_for(recording, start_key),
                evidence_clip=clip_name,
            )
            enqueue(stream_detection_announce, recording.pk, detection.pk)
    except BaseException:
        _delete_quietly(file_name, clip_name)
        raise
    return recording.pk, detection.pk


def stream_segment_close(
    *,
    recording_id: int,
    detection_id: int,
    samples: np.ndarray,
    end_s: float,
    peak_score: float,
    mean_score: float,
) -> None:
    """Complete a segment opened by ``stream_segment_open`` with all its audio and final scores."""
    from detection.streaming.tasks import stream_detection_render, stream_detection_rescore

    recording = Recording.objects.get(pk=recording_id)
    detection = Detection.objects.get(pk=detection_id)
    content = _wav_bytes(samples)
    file_name = _save(recording_upload_to(None, "segment.wav"), content)
    clip, _offset = _clip(samples, start_s=detection.start_s, end_s=end_s)
    clip_name = _save(evidence_clip_upload_to(None, ""), clip)
    # The spectrogram drawn at the onset shows only the start: it goes, and the whole is drawn again.
    old_names = (recording.file.name, detection.evidence_clip.name, detection.spectrogram.name)
    try:
        with transaction.atomic():
            Recording.objects.filter(pk=recording_id).update(
                file=file_name,
                size_bytes=len(content),
                duration_s=len(samples) / SEGMENT_SAMPLE_RATE,
                checksum_sha256=hashlib.sha256(content).hexdigest(),
                status=RecordingStatus.DONE,
                finished_at=timezone.now(),
            )
            Detection.objects.filter(pk=detection_id).update(
                end_s=round(max(end_s, detection.start_s), 3),
                peak_score=max(float(peak_score), detection.peak_score),
                mean_score=mean_score,
                evidence_clip=clip_name,
                spectrogram="",
            )
            transaction.on_commit(lambda: _delete_quietly(*old_names))
            if peak_score > detection.peak_score:  # the incident raised at the onset may deserve more
                enqueue(stream_detection_rescore, detection_id)
            enqueue(stream_detection_render, detection_id)
    except BaseException:
        _delete_quietly(file_name, clip_name)
        raise


def stream_detection_announce(*, recording_id: int, detection_id: int) -> None:
    """Send ``detections_stored`` for a new stream detection (alerts raise or extend an incident)."""
    recording = Recording.objects.select_related("sensor", "site").get(pk=recording_id)
    detections = list(Detection.objects.filter(pk=detection_id))
    send_robust_logged(
        detections_stored,
        about=f"stream recording {recording_id}",
        sender=Recording,
        recording=recording,
        detections=detections,
    )


def stream_detection_announce_rescore(*, detection_id: int) -> None:
    """Send ``detection_rescored`` for a stream detection whose peak rose once the scream had ended."""
    detection = Detection.objects.select_related("recording", "sensor", "site").get(pk=detection_id)
    send_robust_logged(detection_rescored, about=f"detection {detection_id}", sender=Detection, detection=detection)


def stream_detection_render(*, detection_id: int) -> None:
    """(Re)draw a stream detection's spectrogram from its recording's current audio."""
    detection = Detection.objects.select_related("recording", "sensor").filter(pk=detection_id).first()
    if detection is None:
        return
    samples = read_wav(detection.recording.file.name)
    duration_s = len(samples) / SEGMENT_SAMPLE_RATE
    clip_start, clip_end = evidence.clip_bounds(start_s=detection.start_s, end_s=detection.end_s, duration_s=duration_s)
    picture = evidence.render_spectrogram(
        evidence.clip_samples(samples, SEGMENT_SAMPLE_RATE, start_s=clip_start, end_s=clip_end),
        SEGMENT_SAMPLE_RATE,
        offset_s=clip_start,
        span=(detection.start_s, min(detection.end_s, duration_s)),
        title=f"{detection.sensor.name}: scream probability {detection.peak_score:.2f}",
    )
    name = _save(spectrogram_upload_to(None, ""), picture)
    old_name = detection.spectrogram.name
    if Detection.objects.filter(pk=detection_id).update(spectrogram=name):
        _delete_quietly(old_name)
    else:
        _delete_quietly(name)


def stream_audio_keep(
    *, sensor_id: int, samples: np.ndarray, recorded_at: datetime, model_version: str, source_sample_rate: int
) -> int:
    """Keep a piece of continuous stream audio (only for sites that turned ``keep_stream_audio`` on).

    It was scored live, so it is stored as done; its detections belong to the segments around them.
    """
    sensor = Sensor.objects.select_related("site").get(pk=sensor_id)
    content = _wav_bytes(samples)
    file_name = _save(recording_upload_to(None, "continuous.wav"), content)
    try:
        recording = _stream_recording(
            sensor=sensor,
            name_prefix="continuous",
            content=content,
            sample_count=len(samples),
            source_sample_rate=source_sample_rate,
            model_version=model_version,
            recorded_at=recorded_at,
            status=RecordingStatus.DONE,
            finished_at=timezone.now(),
        )
        recording.file.name = file_name
        recording.save()
    except BaseException:
        _delete_quietly(file_name)
        raise
    return recording.pk


# --- sensor health ---------------------------------------------------------------------------------


def sensor_status_payload(sensor: Sensor) -> dict:
    return {
        "id": sensor.pk,
        "name": sensor.name,
        "site": sensor.site_id,
        "status": str(sensor.status),
        "last_seen": sensor.last_seen.isoformat() if sensor.last_seen else None,
        "level_dbfs": sensor.level_dbfs,
    }


def sensor_status_message(sensor: Sensor) -> dict:
    """The ``sensor.status`` message consoles receive on the site's sensors group."""
    return {"type": "sensor.status", "sensor": sensor_status_payload(sensor)}


def sensor_heartbeat(*, sensor_id: int, level_dbfs: float) -> Sensor | None:
    """Record that ``sensor_id`` is streaming now at ``level_dbfs``; the updated sensor, or None if gone."""
    now = timezone.now()
    if not Sensor.objects.filter(pk=sensor_id).update(last_seen=now, level_dbfs=level_dbfs):
        return None
    return Sensor.objects.filter(pk=sensor_id).first()


def site_inactive_refusal(site: Site) -> ProtocolError | None:
    """Why a sensor of ``site`` may not stream now (the site is paused or retired), or None."""
    if site.status == SiteStatus.ACTIVE:
        return None
    return ProtocolError(
        CloseCode.SITE_INACTIVE,
        f"the site '{site.name}' is {site.get_status_display().lower()}; it takes no audio until it is active again",
    )


def sensor_stream_refusal(*, sensor_id: int, key_lookup_id: str, issuer_id: int | None = None) -> ProtocolError | None:
    """Why an open stream must close now, or None while it may go on.

    The key it authenticated with must still be the sensor's live key, the sensor enabled and its
    site active (a paused or retired site takes no audio, as it takes no uploads); a stream opened
    with a manager's stream token (``issuer_id``) also needs that person still a manager there.
    """
    sensor = Sensor.objects.select_related("site").filter(pk=sensor_id, key_lookup_id=key_lookup_id).first()
    if sensor is None or not sensor.enabled or not sensor.has_active_key:
        return ProtocolError(CloseCode.UNAUTHORIZED, "the sensor key was revoked or the sensor disabled")
    if issuer_id is not None and not issuer_may_stream(issuer_id=issuer_id, sensor=sensor):
        return ProtocolError(CloseCode.UNAUTHORIZED, "you are no longer a manager of this sensor's site")
    return site_inactive_refusal(sensor.site)


def sensors_mark_offline() -> list[int]:
    """Announce every streaming sensor that went quiet for ``SENSOR_OFFLINE_AFTER_S``, once per transition.

    A streaming sensor always has a level; clearing it with a conditional UPDATE claims the
    online-to-offline transition, so two runs (or two workers) never announce a sensor twice, and
    the next heartbeat makes it online again. The site's managers get one email per transition,
    unless the site is paused or retired: its streams were closed on purpose (``site_inactive_refusal``).
    """
    cutoff = timezone.now() - timedelta(seconds=settings.SENSOR_OFFLINE_AFTER_S)
    candidates = list(
        Sensor.objects.select_related("site").filter(last_seen__lt=cutoff, level_dbfs__isnull=False, enabled=True)
    )
    announced = []
    for sensor in candidates:
        with transaction.atomic():
            claimed = Sensor.objects.filter(pk=sensor.pk, last_seen__lt=cutoff, level_dbfs__isnull=False).update(
                level_dbfs=None
            )
            if not claimed:
                continue
            sensor.level_dbfs = None
            announced.append(sensor.pk)
            broadcast_after_commit(site_sensors_group(sensor.site_id), sensor_status_message(sensor))
            if sensor.site.status == SiteStatus.ACTIVE:
                transaction.on_commit(lambda sensor=sensor: _notify_offline(sensor))
    return announced


def _notify_offline(sensor: Sensor) -> None:
    recipients = [user.email for user in site_managers(site=sensor.site) if user.email]
    if not recipients:
        return
    last_seen = timezone.localtime(sensor.last_seen).strftime("%Y-%m-%d %H:%M:%S %Z") if sensor.last_seen else "never"
    try:
        send_mail(
            subject=f"[Outcry] Sensor offline: {sensor.site.name} / {sensor.name}",
            message=(
                f"The sensor '{sensor.name}' at {sensor.site.name} stopped streaming audio.\n"
                f"Last heard: {last_seen}. Screams near it will not be detected until it reconnects.\n\n"
                f"{settings.PUBLIC_BASE_URL}/"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except OSError:
        logger.exception("could not email the managers of %s about sensor %s going offline", sensor.site, sensor.pk)
