"""The small, pure rules of alerting: priority from score, whether a sensor may raise, who may do what.

No database access here: services and selectors apply these rules, the console websocket reuses
``allowed_actions`` to annotate broadcasts per user, and tests check them directly.
"""

import math
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from alerts.models import IncidentPriority, IncidentStatus
from sites.models import Role, Sensor, SiteStatus

# Priority cut-offs on the peak scream probability. Above these fixed lines a score is urgent
# whatever the site's threshold; between the site's threshold and them, "medium" once the score is
# clearly over the threshold and "low" while it barely passes it.
CRITICAL_SCORE = 0.95
HIGH_SCORE = 0.85
MEDIUM_MARGIN = 0.10


def priority_for_score(*, score: float, threshold: float) -> str:
    """critical ≥ 0.95 > high ≥ 0.85 > medium ≥ threshold + 0.10 > low (raised at ≥ threshold)."""
    if score >= CRITICAL_SCORE:
        return IncidentPriority.CRITICAL
    if score >= HIGH_SCORE:
        return IncidentPriority.HIGH
    if score >= threshold + MEDIUM_MARGIN:
        return IncidentPriority.MEDIUM
    return IncidentPriority.LOW


def higher_priority(first: str, second: str) -> str:
    return first if IncidentPriority.rank(first) >= IncidentPriority.rank(second) else second


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def within_active_hours(active_hours: list[dict], *, at: datetime, timezone_name: str) -> bool:
    """Whether ``at`` falls in one of the ranges (site-local days and times; empty = always).

    A range whose end is not after its start runs past midnight: {"days": [4], "start": "22:00",
    "end": "06:00"} covers Friday 22:00 to Saturday 06:00 (the day names the evening it starts).
    Start is inclusive, end exclusive; equal start and end mean the whole day.
    """
    if not active_hours:
        return True
    local = at.astimezone(ZoneInfo(timezone_name))
    weekday, clock = local.weekday(), local.time()
    for entry in active_hours:
        start, end = _clock(entry["start"]), _clock(entry["end"])
        days = entry["days"]
        if start < end:
            if weekday in days and start <= clock < end:
                return True
        elif start == end:
            if weekday in days:
                return True
        else:  # overnight: the evening part on a listed day, the morning part on the day after one
            if weekday in days and clock >= start:
                return True
            if (weekday - 1) % 7 in days and clock < end:
                return True
    return False


def sensor_suppression(sensor: Sensor, *, at: datetime, now: datetime) -> str | None:
    """Why a detection of ``sensor`` at ``at`` raises nothing, in words; None when it may raise.

    A silence is in force while ``silenced_until`` is in the future (``now``); the schedule is
    judged at the time the audio was heard (``at``), in the site's time zone.
    """
    if sensor.site.status != SiteStatus.ACTIVE:
        return f"site is {sensor.site.status}"
    if not sensor.enabled:
        return "sensor is disabled"
    if sensor.silenced_until is not None and sensor.silenced_until > now:
        return f"sensor is silenced until {sensor.silenced_until.isoformat()}"
    if not within_active_hours(sensor.active_hours, at=at, timezone_name=sensor.site.timezone):
        return "outside the sensor's active hours"
    return None


class Action:
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    ANNOTATE = "annotate"
    HOLD = "hold"
    RESOLVE = "resolve"
    REOPEN = "reopen"


# The statuses each action starts from. Acknowledging a held incident resumes work on it.
ACTION_FROM_STATUSES: dict[str, tuple[str, ...]] = {
    Action.ACKNOWLEDGE: (IncidentStatus.NEW, IncidentStatus.ON_HOLD),
    Action.ASSIGN: (IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED, IncidentStatus.ON_HOLD),
    Action.ANNOTATE: tuple(IncidentStatus.values),
    Action.HOLD: (IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED),
    Action.RESOLVE: (IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED, IncidentStatus.ON_HOLD),
    Action.REOPEN: (IncidentStatus.RESOLVED,),
}
ACTING_ROLE = Role.OPERATOR  # every workflow action; viewers only read


def can_act(role: str | None) -> bool:
    return role is not None and Role.rank(role) >= Role.rank(ACTING_ROLE)


def allowed_actions(*, role: str | None, status: str) -> list[str]:
    """The actions a user with ``role`` at the incident's site may take on it now, in a fixed order."""
    if not can_act(role):
        return []
    return [action for action, statuses in ACTION_FROM_STATUSES.items() if status in statuses]


# --- Threshold advice from how operators resolved a sensor's incidents ---------------------------

SUGGESTION_MIN_FALSE_ALARMS = 3
# How far under the lowest real scream (a confirmed emergency or a test) a suggestion stays.
SUGGESTION_MARGIN = 0.05
# Without a real scream to show how high they score at this microphone, a suggestion moves this much at most.
SUGGESTION_BLIND_STEP = 0.10
SUGGESTION_CEILING = 0.95


def _level(threshold: float) -> str:
    """0.8 → "0.80", 0.645 → "0.645": as precise as the threshold is set."""
    return f"{threshold:.2f}" if round(threshold, 2) == threshold else f"{threshold:.3f}"


@dataclass(frozen=True)
class ThresholdAdvice:
    """A threshold that would have raised every real scream of the period and fewer false alarms
    (``threshold`` None when there is no such change to advise), and why, in words."""

    threshold: float | None
    false_alarms_avoided: int
    reason: str


def threshold_advice(
    *, current: float, false_alarm_peaks: list[float], real_scream_peaks: list[float]
) -> ThresholdAdvice:
    """The highest threshold, in hundredths, that stays ``SUGGESTION_MARGIN`` under every real scream
    of the period (confirmed emergencies and tests), when it is above ``current`` and would have
    dropped at least one false alarm. An incident is raised when its peak score reaches the
    threshold, so one whose peak is under a threshold would not have been raised at it.
    """
    count = len(false_alarm_peaks)
    if not count:
        return ThresholdAdvice(None, 0, "No false alarm resolved in the period: nothing to advise.")
    if count < SUGGESTION_MIN_FALSE_ALARMS:
        return ThresholdAdvice(
            None,
            0,
            f"{count} false alarm{'' if count == 1 else 's'} resolved: too few to advise a change "
            f"({SUGGESTION_MIN_FALSE_ALARMS} are needed).",
        )
    if real_scream_peaks:
        lowest = min(real_scream_peaks)
        ceiling = lowest - SUGGESTION_MARGIN
        kept = f"every real scream still raised (the lowest of {len(real_scream_peaks)} scored {lowest:.2f})"
    else:
        ceiling = current + SUGGESTION_BLIND_STEP
        kept = (
            f"a step of at most {SUGGESTION_BLIND_STEP:.2f}, as no confirmed emergency or test shows how high real "
            "screams score at this microphone (a test scream, resolved as a test, would)"
        )
    highest_false_alarm = max(false_alarm_peaks)
    target = math.floor(round(min(ceiling, SUGGESTION_CEILING, highest_false_alarm + 0.01) * 100, 6)) / 100
    avoided = sum(peak < target for peak in false_alarm_peaks)
    if highest_false_alarm < current:
        return ThresholdAdvice(None, 0, f"Keep {_level(current)}: every false alarm of the period scored under it.")
    if target <= current or not avoided:
        if real_scream_peaks and ceiling <= current:
            why = f"a real scream scored {min(real_scream_peaks):.2f}, and a higher threshold could miss one like it"
        else:
            why = f"the false alarms scored too high (the lowest {min(false_alarm_peaks):.2f}) to drop safely"
        return ThresholdAdvice(None, 0, f"Keep {_level(current)}: {why}.")
    return ThresholdAdvice(
        target,
        avoided,
        f"At {_level(target)} instead of {_level(current)}, {avoided} of {count} false alarms would not have been "
        f"raised, with {kept}.",
    )
