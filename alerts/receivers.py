"""Reactions to other apps' signals (connected in AlertsConfig.ready)."""

import logging

from alerts.services import incident_raise_or_extend

logger = logging.getLogger(__name__)


def raise_incidents_for_detections(sender, *, recording, detections, **kwargs) -> None:
    """``detection.signals.detections_stored``: raise or extend incidents, oldest detection first.

    Each detection is handled in its own transaction, so one that fails (logged) does not keep
    the others from alerting.
    """
    for detection in sorted(detections, key=lambda item: (item.occurred_at, item.pk)):
        try:
            incident_raise_or_extend(detection=detection)
        except Exception:
            logger.exception("detection %s of recording %s: raising its incident failed", detection.pk, recording.pk)
