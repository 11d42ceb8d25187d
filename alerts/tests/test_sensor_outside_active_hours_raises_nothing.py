from datetime import UTC, datetime

import pytest

from alerts.models import Incident
from alerts.policy import within_active_hours
from alerts.services import incident_raise_or_extend

# 2026-11-20 is a Friday (weekday 4).
FRIDAY = 4
NIGHT_SHIFT = [{"days": [FRIDAY], "start": "22:00", "end": "06:00"}]
OFFICE = [{"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}]


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "at", "active"),
    [
        ([], utc(20, 3), True),  # empty schedule: always
        (OFFICE, utc(20, 8), True),  # start is inclusive
        (OFFICE, utc(20, 17, 59), True),
        (OFFICE, utc(20, 18), False),  # end is exclusive
        (OFFICE, utc(21, 12), False),  # Saturday
        (NIGHT_SHIFT, utc(20, 23), True),  # Friday evening
        (NIGHT_SHIFT, utc(21, 5, 59), True),  # Saturday morning belongs to Friday's night
        (NIGHT_SHIFT, utc(21, 6), False),
        (NIGHT_SHIFT, utc(20, 5), False),  # Friday morning belongs to Thursday's night (not listed)
        (NIGHT_SHIFT, utc(21, 23), False),  # Saturday evening
        ([{"days": [6], "start": "22:00", "end": "06:00"}], utc(23, 2), True),  # Sunday night wraps to Monday
        ([{"days": [2], "start": "00:00", "end": "00:00"}], utc(18, 13), True),  # equal: all day Wednesday
    ],
)
def test_active_hours_in_utc(schedule, at, active):
    assert within_active_hours(schedule, at=at, timezone_name="UTC") is active


def test_active_hours_are_read_in_the_site_time_zone():
    # 21:30 UTC on Friday is 22:30 in Paris (UTC+1 in November): inside Friday's night shift.
    assert within_active_hours(NIGHT_SHIFT, at=utc(20, 21, 30), timezone_name="Europe/Paris") is True
    assert within_active_hours(NIGHT_SHIFT, at=utc(20, 21, 30), timezone_name="UTC") is False
    # 17:30 UTC Friday is 09:30 Saturday in Tokyo: outside office hours there.
    assert within_active_hours(OFFICE, at=utc(20, 17, 30), timezone_name="Asia/Tokyo") is False


def test_detection_outside_active_hours_raises_nothing(make_site, make_sensor, make_detection):
    sensor = make_sensor(make_site(timezone="Europe/Paris"), active_hours=NIGHT_SHIFT)

    assert incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.99, occurred_at=utc(20, 12))) is None
    assert not Incident.objects.exists()


def test_detection_inside_overnight_active_hours_raises(make_site, make_sensor, make_detection):
    sensor = make_sensor(make_site(timezone="Europe/Paris"), active_hours=NIGHT_SHIFT)

    detection = make_detection(sensor, peak_score=0.99, occurred_at=utc(21, 4))  # 05:00 Saturday in Paris

    assert incident_raise_or_extend(detection=detection) is not None
