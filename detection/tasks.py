"""Celery tasks of detection: thin wrappers that call services."""

import logging
import time
from dataclasses import asdict

import numpy as np
from celery import shared_task, signals
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError

from detection import engine, features
from detection.services import (
    TRANSIENT_ERRORS,
    RecordingBusy,
    recording_analyze,
    recording_fail,
    recording_requeue_stalled,
    recordings_purge_expired_audio,
)

logger = logging.getLogger(__name__)

MAX_RETRIES = 3
RETRY_BACKOFF_S = 15
# In-process runners (the embedded thread pool, inline) cannot schedule a retry for later, so they
# wait and try again in place: a SQLite table locked by the request that just uploaded, or a storage
# blip, must not fail the recording for good. Two more tries: MAX_ANALYSIS_ATTEMPTS counts three.
IN_PROCESS_RETRY_DELAYS_S = (0.5, 2.0)
# A recording still queued this long after upload lost its dispatch; the sweep sends it again.
REQUEUE_QUEUED_AFTER_S = 600
REQUEUE_EVERY_S = 300.0
PURGE_EXPIRED_AUDIO_EVERY_S = 3600.0


@signals.worker_init.connect
@signals.worker_process_init.connect
def warm_up_detector(**_kwargs) -> None:
    """Load the model and score one window when a worker starts, so that the first recording it
    gets does not wait for the model to load and the feature code to warm up (seconds). Server
    processes call it too, through ``outcry.signals.server_started``."""
    try:
        engine.get_engine().analyze(np.zeros(features.WINDOW_SAMPLES, dtype=np.float32))
    except engine.ModelError as exc:
        logger.warning("detection model not loaded at start: %s", exc)


@shared_task(
    name="detection.tasks.analyze_recording",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def analyze_recording(self, recording_id: int) -> str | None:
    """Analyse a recording (idempotent: a redelivered or repeated run changes nothing).

    Permanent failures are recorded on the recording by the service and not retried; transient
    ones are retried with exponential backoff, then recorded; a recording another worker holds is
    retried once that worker's claim could have gone stale.
    """
    in_process_delays = list(IN_PROCESS_RETRY_DELAYS_S) if self.request.is_eager else []
    tries = 0
    while True:
        tries += 1
        try:
            recording = recording_analyze(recording_id=recording_id)
        except RecordingBusy as exc:
            if self.request.is_eager:  # in-process runners: the holder is alive in this process
                logger.info("%s", exc)
                return None
            raise self.retry(exc=exc, countdown=settings.CELERY_TASK_TIME_LIMIT + 60) from exc
        except SoftTimeLimitExceeded:
            recording_fail(
                recording_id=recording_id,
                error=f"Analysis took longer than the limit of {settings.CELERY_TASK_SOFT_TIME_LIMIT} s.",
            )
            return None
        except TRANSIENT_ERRORS as exc:
            if in_process_delays:
                delay = in_process_delays.pop(0)
                logger.warning("recording %s: %s; trying again in %.1f s", recording_id, exc, delay)
                time.sleep(delay)
                continue
            if self.request.retries >= self.max_retries or self.request.is_eager:
                _fail_quietly(recording_id, f"Analysis failed after {self.request.retries + tries} tries: {exc}")
                raise
            raise self.retry(exc=exc, countdown=RETRY_BACKOFF_S * 2**self.request.retries) from exc
        return recording.status if recording is not None else None


def _fail_quietly(recording_id: int, error: str) -> None:
    try:
        recording_fail(recording_id=recording_id, error=error)
    except DatabaseError:
        logger.exception("could not record the failure of recording %s", recording_id)


@shared_task(name="detection.tasks.requeue_stalled_recordings")
def requeue_stalled_recordings() -> int:
    """Periodic sweep: re-dispatch recordings whose analysis was lost on the way (see the service)."""
    return len(recording_requeue_stalled(queued_for_s=REQUEUE_QUEUED_AFTER_S))


@shared_task(name="detection.tasks.purge_expired_audio")
def purge_expired_audio() -> dict:
    """Periodic (hourly): delete the audio past its site's retention (see the service)."""
    return asdict(recordings_purge_expired_audio())
