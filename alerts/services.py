"""Writes on incidents: raising them from detections, the operator workflow, and escalation.

Every rule of the workflow lives here, once:

- Only operators and managers of the incident's site (and platform admins) act; viewers read
  (``IncidentActionForbidden``).
- Each action starts from given statuses (``alerts.policy.ACTION_FROM_STATUSES``):
  new → acknowledged → resolved, on_hold from new/acknowledged (acknowledge resumes it), reopen
  from resolved back to acknowledged. Anything else is ``IncidentStateConflict``, whose message
  says the current state and who set it ("Incident 12 was already acknowledged by alice at …").
- A status change is one conditional UPDATE (``WHERE status = <the status read>``): of two people
  acknowledging at once exactly one changes the row and writes the event; the other gets the
  conflict naming the winner. Nothing is written for the loser.
- Every change writes one append-only IncidentEvent and is broadcast after commit.
"""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts.broadcast import incident_broadcast
from alerts.exceptions import IncidentActionForbidden, IncidentInvalidInput, IncidentStateConflict
from alerts.models import (
    OPEN_STATUSES,
    Incident,
    IncidentEvent,
    IncidentEventKind,
    IncidentStatus,
    Resolution,
)
from alerts.notifications.services import notification_deliveries_create, notification_deliveries_for_priority_rise
from alerts.policy import (
    ACTION_FROM_STATUSES,
    Action,
    can_act,
    higher_priority,
    priority_for_score,
    sensor_suppression,
)
from detection.models import Detection
from detection.selectors import sensor_threshold
from outcry.models import User
from outcry.tasking import enqueue
from sites.models import Role, Sensor
from sites.selectors import role_at_site

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 5000


# --- Raising ------------------------------------------------------------------------------------


def incident_raise_or_extend(*, detection: Detection) -> Incident | None:
    """Raise an incident for ``detection``, or add it to the open one of its sensor.

    Nothing happens (None) when the peak score is under the sensor's effective threshold, or the
    sensor may not raise now (site not active, sensor disabled or silenced, outside its active
    hours): the detection stays recorded. A detection already part of an incident returns that
    incident unchanged, so a re-sent signal changes nothing.

    Raises on one sensor are serialised by locking the sensor row (SELECT … FOR UPDATE on
    PostgreSQL; SQLite serialises writers anyway), so two detections arriving together can never
    open two incidents.
    """
    with transaction.atomic():
        sensor = Sensor.objects.select_for_update(of=("self",)).select_related("site").get(pk=detection.sensor_id)
        threshold = sensor_threshold(sensor)
        if detection.peak_score < threshold:
            return None
        suppressed = sensor_suppression(sensor, at=detection.occurred_at, now=timezone.now())
        if suppressed:
            logger.info("detection %s raises no incident: %s", detection.pk, suppressed)
            return None
        existing = Incident.objects.filter(detections=detection).first()
        if existing is not None:
            return existing
        window_start = detection.occurred_at - timedelta(seconds=sensor.effective_cooldown_s)
        incident = (
            Incident.objects.filter(sensor=sensor, status__in=OPEN_STATUSES, last_detection_at__gte=window_start)
            .order_by("-last_detection_at", "-id")
            .first()
        )
        if incident is not None:
            incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident is not None and incident.is_open:  # not resolved while we waited for its lock
            return _incident_extend(incident=incident, detection=detection, threshold=threshold)
        return _incident_open(sensor=sensor, detection=detection, threshold=threshold)


def _incident_open(*, sensor: Sensor, detection: Detection, threshold: float) -> Incident:
    priority = priority_for_score(score=detection.peak_score, threshold=threshold)
    incident = Incident.objects.create(
        site=sensor.site,
        sensor=sensor,
        status=IncidentStatus.NEW,
        priority=priority,
        peak_score=detection.peak_score,
        peak_detection=detection,
        detection_count=1,
        # When operators first saw it (escalation and waited_s count from here), even for a
        # recording uploaded long after it was made; the cooldown follows the audio's own time.
        opened_at=timezone.now(),
        last_detection_at=detection.occurred_at,
    )
    incident.detections.add(detection)
    event = IncidentEvent.objects.create(
        incident=incident,
        kind=IncidentEventKind.OPENED,
        to_status=IncidentStatus.NEW,
        text=f"Scream detected ({detection.peak_score:.2f}) at {sensor.name}.",
        data={"detection_id": detection.pk, "peak_score": detection.peak_score, "priority": priority},
    )
    notification_deliveries_create(incident=incident, reason="new")
    incident_broadcast(incident=incident, event=event)
    return incident


def _incident_extend(*, incident: Incident, detection: Detection, threshold: float) -> Incident:
    before = incident.priority
    incident.detections.add(detection)
    incident.detection_count = F("detection_count") + 1
    incident.last_detection_at = max(incident.last_detection_at, detection.occurred_at)
    if detection.peak_score > incident.peak_score:
        incident.peak_score = detection.peak_score
        incident.peak_detection = detection
    incident.priority = higher_priority(
        incident.priority, priority_for_score(score=detection.peak_score, threshold=threshold)
    )
    incident.save(
        update_fields=[
            "detection_count",
            "last_detection_at",
            "peak_score",
            "peak_detection",
            "priority",
            "updated_at",
        ]
    )
    incident.refresh_from_db()
    event = IncidentEvent.objects.create(
        incident=incident,
        kind=IncidentEventKind.DETECTION_ADDED,
        text=f"Another detection ({detection.peak_score:.2f}); {incident.detection_count} in all"
        + _priority_raised_words(before, incident.priority)
        + ".",
        data={"detection_id": detection.pk, "peak_score": detection.peak_score, "priority": incident.priority},
    )
    incident_broadcast(incident=incident, event=event)
    _announce_priority_rise(incident=incident, before=before)
    return incident


def _priority_raised_words(before: str, after: str) -> str:
    return f", priority raised from {before} to {after}" if after != before else ""


def _announce_priority_rise(*, incident: Incident, before: str) -> None:
    """Once committed, tell the channels that announced the incident that its priority rose (if it did)."""
    if incident.priority == before:
        return
    # After commit, so a "new" delivery still pending then is sure to be built with the new priority.
    incident_id = incident.pk
    transaction.on_commit(lambda: notification_deliveries_for_priority_rise(incident_id=incident_id), robust=True)


def incident_detection_rescored(*, detection: Detection) -> Incident | None:
    """Raise the peak score and priority of the incident holding ``detection``, whose peak rose.

    A live stream's detection raises its incident from the scream's first window over the
    threshold, often its weakest; once the scream has ended the detection holds its true peak, and
    the incident's priority must follow it (it never goes down). None when no incident holds the
    detection (the sensor was silenced, say) or its peak is already as high.
    """
    with transaction.atomic():
        incident = Incident.objects.select_for_update().filter(detections=detection).first()
        if incident is None or detection.peak_score <= incident.peak_score:
            return None
        before = incident.priority
        incident.peak_score = detection.peak_score
        incident.peak_detection = detection
        incident.priority = higher_priority(
            incident.priority,
            priority_for_score(score=detection.peak_score, threshold=sensor_threshold(detection.sensor)),
        )
        incident.save(update_fields=["peak_score", "peak_detection", "priority", "updated_at"])
        raised = _priority_raised_words(before, incident.priority)
        event = IncidentEvent.objects.create(
            incident=incident,
            kind=IncidentEventKind.DETECTION_RESCORED,
            text=f"The scream went on: its peak reached {detection.peak_score:.2f}{raised}.",
            data={"detection_id": detection.pk, "peak_score": detection.peak_score, "priority": incident.priority},
        )
        incident_broadcast(incident=incident, event=event)
        _announce_priority_rise(incident=incident, before=before)
    return incident


# --- The workflow -------------------------------------------------------------------------------


def _require_actor(*, incident: Incident, user: User, verb: str) -> str:
    role = role_at_site(user=user, site=incident.site)
    if not can_act(role):
        raise IncidentActionForbidden(
            f"You need the operator role at {incident.site.name} to {verb} incidents"
            + (" (you are a viewer)." if role else ".")
        )
    return role


def _when(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "an unknown time"


def _who(user: User | None) -> str:
    return user.username if user else "the system"


def _state_conflict(*, incident: Incident, action: str) -> IncidentStateConflict:
    """Why ``action`` cannot start from the incident's current state, naming who set it."""
    number, status = incident.pk, incident.status
    if status == IncidentStatus.RESOLVED:
        message = (
            f"Incident {number} is already resolved ({incident.get_resolution_display().lower()}) "
            f"by {_who(incident.resolved_by)} at {_when(incident.resolved_at)}."
        )
    elif action == Action.REOPEN:
        message = f"Incident {number} is not resolved (it is {incident.get_status_display().lower()})."
    elif status == IncidentStatus.ACKNOWLEDGED and action == Action.ACKNOWLEDGE:
        message = (
            f"Incident {number} was already acknowledged by {_who(incident.acknowledged_by)} "
            f"at {_when(incident.acknowledged_at)}."
        )
    elif status == IncidentStatus.ON_HOLD and action == Action.HOLD:
        message = f"Incident {number} is already on hold."
    else:
        message = f"Incident {number} cannot be {_PAST[action]}: it is {incident.get_status_display().lower()}."
    return IncidentStateConflict(message)


_PAST = {
    Action.ACKNOWLEDGE: "acknowledged",
    Action.ASSIGN: "assigned",
    Action.ANNOTATE: "annotated",
    Action.HOLD: "put on hold",
    Action.RESOLVE: "resolved",
    Action.REOPEN: "reopened",
}


def _current(incident: Incident) -> Incident:
    return Incident.objects.select_related("site", "acknowledged_by", "resolved_by").get(pk=incident.pk)


def _transition(
    *,
    incident: Incident,
    user: User,
    action: str,
    to_status: str,
    event_kind: str,
    text: str = "",
    data: dict | None = None,
    changes,
) -> Incident:
    """Move ``incident`` to ``to_status`` with one conditional UPDATE, then log and broadcast.

    ``changes(from_status, now)`` gives the other columns to set. Returns the refreshed incident.
    """
    with transaction.atomic():
        current = _current(incident)
        if current.status not in ACTION_FROM_STATUSES[action]:
            raise _state_conflict(incident=current, action=action)
        now = timezone.now()
        updated = Incident.objects.filter(pk=incident.pk, status=current.status).update(
            status=to_status, updated_at=now, **changes(current.status, now)
        )
        if not updated:  # somebody changed it between our read and our write
            raise _state_conflict(incident=_current(incident), action=action)
        incident.refresh_from_db()
        event = IncidentEvent.objects.create(
            incident=incident,
            kind=event_kind,
            actor=user,
            from_status=current.status,
            to_status=to_status,
            text=text,
            data=data or {},
            created_at=now,
        )
        incident_broadcast(incident=incident, event=event)
    return incident


def _stamp_acknowledgement(from_status: str, now, user: User) -> dict:
    if from_status == IncidentStatus.NEW:
        return {"acknowledged_at": now, "acknowledged_by": user}
    return {}


def incident_acknowledge(*, incident: Incident, user: User) -> Incident:
    """new → acknowledged (or on_hold → acknowledged: work resumes). Stops escalation."""
    _require_actor(incident=incident, user=user, verb="acknowledge")
    return _transition(
        incident=incident,
        user=user,
        action=Action.ACKNOWLEDGE,
        to_status=IncidentStatus.ACKNOWLEDGED,
        event_kind=IncidentEventKind.ACKNOWLEDGED,
        changes=lambda from_status, now: _stamp_acknowledgement(from_status, now, user),
    )


def incident_hold(*, incident: Incident, user: User, text: str) -> Incident:
    """new/acknowledged → on_hold, saying what it waits on. Holding a new incident acknowledges it."""
    _require_actor(incident=incident, user=user, verb="hold")
    text = _clean_text(text, field="text", what="Say what the incident is waiting on.")
    return _transition(
        incident=incident,
        user=user,
        action=Action.HOLD,
        to_status=IncidentStatus.ON_HOLD,
        event_kind=IncidentEventKind.HELD,
        text=text,
        changes=lambda from_status, now: _stamp_acknowledgement(from_status, now, user),
    )


def incident_resolve(*, incident: Incident, user: User, resolution: str, note: str = "") -> Incident:
    """Any open status → resolved, with a resolution (confirmed emergency, false alarm, test, other)."""
    _require_actor(incident=incident, user=user, verb="resolve")
    if resolution not in Resolution.values:
        raise IncidentInvalidInput(
            f"Resolving needs a resolution: one of {', '.join(Resolution.values)}.", field="resolution"
        )
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise IncidentInvalidInput(f"The note is longer than {NOTE_MAX_LENGTH} characters.", field="note")
    return _transition(
        incident=incident,
        user=user,
        action=Action.RESOLVE,
        to_status=IncidentStatus.RESOLVED,
        event_kind=IncidentEventKind.RESOLVED,
        text=note,
        data={"resolution": resolution},
        changes=lambda from_status, now: {
            "resolved_at": now,
            "resolved_by": user,
            "resolution": resolution,
            "resolution_note": note,
        },
    )


def incident_reopen(*, incident: Incident, user: User, text: str = "") -> Incident:
    """resolved → acknowledged: the reopener is working on it. The old resolution stays in the timeline."""
    _require_actor(incident=incident, user=user, verb="reopen")
    text = (text or "").strip()[:NOTE_MAX_LENGTH]
    previous = _current(incident)
    return _transition(
        incident=incident,
        user=user,
        action=Action.REOPEN,
        to_status=IncidentStatus.ACKNOWLEDGED,
        event_kind=IncidentEventKind.REOPENED,
        text=text,
        data={"previous_resolution": previous.resolution, "previous_note": previous.resolution_note},
        changes=lambda from_status, now: {
            "resolved_at": None,
            "resolved_by": None,
            "resolution": "",
            "resolution_note": "",
            **({} if previous.acknowledged_at else {"acknowledged_at": now, "acknowledged_by": user}),
        },
    )


def incident_assign(*, incident: Incident, user: User, assignee: User | None) -> Incident:
    """Give an open incident to an operator or manager of its site (None: unassign).

    Managers assign anyone who may act at the site; operators take it themselves or give back
    their own assignment.
    """
    role = _require_actor(incident=incident, user=user, verb="assign")
    if assignee is not None and not can_act(role_at_site(user=assignee, site=incident.site)):
        raise IncidentInvalidInput(
            # The same words for any user id: naming the user would map ids to usernames for anyone
            # allowed to assign, across every site.
            f"User {assignee.pk} cannot be assigned: only operators and managers of {incident.site.name} can.",
            field="assignee",
        )
    with transaction.atomic():
        current = (
            Incident.objects.select_for_update(of=("self",)).select_related("site", "assignee").get(pk=incident.pk)
        )
        if current.status not in ACTION_FROM_STATUSES[Action.ASSIGN]:
            raise _state_conflict(incident=_current(incident), action=Action.ASSIGN)
        if Role.rank(role) < Role.rank(Role.MANAGER):
            taking = assignee is not None and assignee.pk == user.pk
            giving_back = assignee is None and current.assignee_id == user.pk
            if not (taking or giving_back):
                raise IncidentActionForbidden(
                    "Operators assign incidents only to themselves; ask a manager to assign someone else."
                )
        previous = current.assignee
        if (previous.pk if previous else None) == (assignee.pk if assignee else None):
            return current
        now = timezone.now()
        Incident.objects.filter(pk=incident.pk).update(assignee=assignee, updated_at=now)
        incident.refresh_from_db()
        event = IncidentEvent.objects.create(
            incident=incident,
            kind=IncidentEventKind.ASSIGNED,
            actor=user,
            text=f"Assigned to {assignee.username}." if assignee else f"Unassigned from {previous.username}.",
            data={
                "assignee": _user_ref(assignee),
                "previous": _user_ref(previous),
            },
            created_at=now,
        )
        incident_broadcast(incident=incident, event=event)
    return incident


def incident_annotate(*, incident: Incident, user: User, text: str) -> IncidentEvent:
    """Add a note to the timeline (in any status, resolved included)."""
    _require_actor(incident=incident, user=user, verb="annotate")
    text = _clean_text(text, field="text", what="A note needs some text.")
    with transaction.atomic():
        now = timezone.now()
        Incident.objects.filter(pk=incident.pk).update(updated_at=now)
        incident.refresh_from_db()
        event = IncidentEvent.objects.create(
            incident=incident, kind=IncidentEventKind.NOTE, actor=user, text=text, created_at=now
        )
        incident_broadcast(incident=incident, event=event)
    return event


def _clean_text(text: str | None, *, field: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise IncidentInvalidInput(what, field=field)
    if len(text) > NOTE_MAX_LENGTH:
        raise IncidentInvalidInput(f"The text is longer than {NOTE_MAX_LENGTH} characters.", field=field)
    return text


def _user_ref(user: User | None) -> dict | None:
    return {"id": user.pk, "username": user.username} if user else None


# --- Escalation ---------------------------------------------------------------------------------


def max_escalation_level() -> int:
    return getattr(settings, "ALERTS_MAX_ESCALATION_LEVEL", 3)


def incident_escalation_due(*, incident: Incident, now) -> bool:
    """Still new after ack_timeout_s * (level + 1) since it opened (0 disables escalation)."""
    timeout_s = incident.site.ack_timeout_s
    if incident.status != IncidentStatus.NEW or not timeout_s or incident.escalation_level >= max_escalation_level():
        return False
    return now >= incident.opened_at + timedelta(seconds=timeout_s * (incident.escalation_level + 1))


def incident_escalate(*, incident: Incident) -> bool:
    """Take the incident one escalation step up, once: True for the caller that did it.

    The step is a conditional UPDATE on (status new, the level read), so two beat ticks or two
    workers escalating the same incident at once produce one step, one event and one round of
    notifications ("escalation:<level>" deliveries and an email to the site's managers).
    """
    from alerts.tasks import email_escalation_to_managers

    level = incident.escalation_level
    with transaction.atomic():
        now = timezone.now()
        stepped = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.NEW, escalation_level=level).update(
            escalation_level=level + 1, last_escalated_at=now, updated_at=now
        )
        if not stepped:
            return False
        incident.refresh_from_db()
        waited_min = max(1, round((now - incident.opened_at).total_seconds() / 60))
        event = IncidentEvent.objects.create(
            incident=incident,
            kind=IncidentEventKind.ESCALATED,
            text=f"Not acknowledged after {waited_min} min: escalated to the site's managers (step {level + 1}).",
            data={"level": level + 1},
            created_at=now,
        )
        notification_deliveries_create(incident=incident, reason=f"escalation:{level + 1}")
        enqueue(email_escalation_to_managers, incident.pk, level + 1)
        incident_broadcast(incident=incident, event=event)
    return True


def incident_log_notification(*, incident: Incident, text: str, data: dict) -> IncidentEvent:
    """Record on the timeline that people were notified about the incident (system event)."""
    with transaction.atomic():
        event = IncidentEvent.objects.create(incident=incident, kind=IncidentEventKind.NOTIFIED, text=text, data=data)
        incident_broadcast(incident=Incident.objects.get(pk=incident.pk), event=event)
    return event
