"""The small, pure rules of alerting: priority from score, whether a sensor may raise, who may do what.

No database access here: services and selectors apply these rules, the console websocket reuses
``allowed_actions`` to annotate broadcasts per user, and tests check them directly.
"""

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
