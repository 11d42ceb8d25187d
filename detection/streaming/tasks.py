"""Celery tasks of live streaming: thin wrappers around ``detection.streaming.services``.

The stream consumer scores windows itself and hands only what follows a detection to these tasks
(via ``outcry.tasking.enqueue``: the broker in production, the embedded pool otherwise).
"""

from celery import shared_task

from detection.streaming import services

MARK_OFFLINE_EVERY_S = 5.0


@shared_task(name="detection.streaming.tasks.stream_detection_announce", acks_late=True)
def stream_detection_announce(recording_id: int, detection_id: int) -> None:
    """Tell the alerts about a new stream detection, then draw its spectrogram."""
    services.stream_detection_announce(recording_id=recording_id, detection_id=detection_id)
    services.stream_detection_render(detection_id=detection_id)


@shared_task(name="detection.streaming.tasks.stream_detection_render", acks_late=True)
def stream_detection_render(detection_id: int) -> None:
    services.stream_detection_render(detection_id=detection_id)


@shared_task(name="detection.streaming.tasks.stream_detection_rescore", acks_late=True)
def stream_detection_rescore(detection_id: int) -> None:
    """Tell the alerts that a stream detection's peak rose once its scream had ended."""
    services.stream_detection_announce_rescore(detection_id=detection_id)


@shared_task(name="detection.streaming.tasks.mark_offline_sensors")
def mark_offline_sensors() -> list[int]:
    """Announce sensors that stopped streaming (periodic, every ``MARK_OFFLINE_EVERY_S``)."""
    return services.sensors_mark_offline()
