"""Signals detection sends; apps to its left (alerts) connect to them, detection never imports them.

``detections_stored``: sent with ``sender=Recording``, ``recording=`` (the Recording, its sensor and
site loaded) and ``detections=`` (a list of the Detection rows created by this analysis run, never
ones stored by an earlier run; their evidence clip and spectrogram are already stored). It is sent
from ``transaction.on_commit`` of the transaction that wrote the rows and marked the recording
done, so receivers see committed rows and may enqueue work or broadcast freely; in tests wrapped in
a transaction, run it with ``django_capture_on_commit_callbacks(execute=True)``. It is not sent
when a run stores nothing new (a repeated or redelivered task). It runs in the analysing worker
(``detection.tasks.analyze_recording``). A receiver that raises is logged and does not undo the
detections or stop other receivers (sent with ``send_robust``).

``detection_rescored``: sent with ``sender=Detection`` and ``detection=`` (the row, its recording,
sensor and site loaded) when a stored detection's peak score rose afterwards: a live stream's
detection is stored at the scream's onset, from the first window over the threshold, and completed
with the whole scream's scores once it has ended. Sent by a task after that change commits
(``detection.streaming.tasks.stream_detection_rescore``), with ``send_robust``.

``audio_retention_holds``: sent by the retention purge (``detection.retention``) with
``sender=Recording`` and ``recordings=`` (a queryset of recordings whose audio is past its site's
retention). Each receiver returns the ids among them whose audio must be kept for now (alerts: those
of open incidents and confirmed emergencies); the purge skips every id any receiver returns. A
receiver that raises stops the purge (sent with ``send``): audio is never deleted on a guess.
"""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

detections_stored = Signal()
detection_rescored = Signal()
audio_retention_holds = Signal()


def send_robust_logged(signal: Signal, *, about: str, **kwargs) -> None:
    """``signal.send_robust(**kwargs)``; each receiver that raised is logged with its traceback,
    ``about`` saying what it was sent for ("recording 12")."""
    for receiver, response in signal.send_robust(**kwargs):
        if isinstance(response, Exception):
            logger.error(
                "receiver %r failed for %s",
                receiver,
                about,
                exc_info=(type(response), response, response.__traceback__),
            )
