"""Reactions to other apps' signals (connected in AlertsConfig.ready)."""

import logging

from django.db.models import Q

from alerts.broadcast import access_changed_broadcast
from alerts.models import OPEN_STATUSES, Resolution
from alerts.services import incident_detection_rescored, incident_raise_or_extend
from detection.models import Detection

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


def raise_incident_priority_for_rescored_detection(sender, *, detection, **kwargs) -> None:
    """``detection.signals.detection_rescored``: the incident follows its detection's new peak."""
    incident_detection_rescored(detection=detection)


def hold_audio_of_open_incidents_and_emergencies(sender, *, recordings, **kwargs) -> set[int]:
    """``detection.signals.audio_retention_holds``: the audio of an incident still open is evidence
    someone is acting on, and that of a confirmed emergency is evidence for good; both outlive the
    site's retention. (Audio of an incident resolved otherwise goes once it is past retention.)"""
    evidence = Q(incidents__status__in=OPEN_STATUSES) | Q(incidents__resolution=Resolution.CONFIRMED_EMERGENCY)
    return set(
        Detection.objects.filter(evidence, recording__in=recordings.values("pk")).values_list("recording_id", flat=True)
    )


def recheck_consoles_of_member(sender, *, instance, **kwargs) -> None:
    """A membership was added, changed or removed (site deletions included): its user's consoles recheck."""
    access_changed_broadcast(user_id=instance.user_id)


def recheck_consoles_of_user(sender, *, instance, update_fields=None, **kwargs) -> None:
    """A user was saved (deactivated, made admin, new password): their consoles recheck; not for a login stamp."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    access_changed_broadcast(user_id=instance.pk)


def recheck_consoles_after_sign_out(sender, *, user, **kwargs) -> None:
    """Signed out in one tab: the consoles of that session close instead of streaming on."""
    if user is not None:
        access_changed_broadcast(user_id=user.pk)
