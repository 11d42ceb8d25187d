from datetime import timedelta

from django.utils import timezone

from alerts.models import Incident, IncidentPriority, IncidentStatus
from alerts.services import incident_raise_or_extend, incident_resolve


def _raise(make_detection, sensor, *, score: float, at, start_s: float = 1.0):
    return incident_raise_or_extend(detection=make_detection(sensor, peak_score=score, occurred_at=at, start_s=start_s))


def test_detection_within_cooldown_joins_the_open_incident(make_site, make_sensor, make_detection):
    sensor = make_sensor(make_site(default_cooldown_s=60, default_threshold=0.5))
    start = timezone.now() - timedelta(minutes=5)

    first = _raise(make_detection, sensor, score=0.6, at=start)
    joined = _raise(make_detection, sensor, score=0.97, at=start + timedelta(seconds=59), start_s=2)

    assert joined.pk == first.pk
    assert Incident.objects.count() == 1
    assert joined.detection_count == 2 and joined.detections.count() == 2
    assert joined.peak_score == 0.97
    assert joined.priority == IncidentPriority.CRITICAL
    assert joined.last_detection_at == start + timedelta(seconds=59)
    assert joined.opened_at == first.opened_at
    assert list(joined.events.values_list("kind", flat=True)) == ["opened", "detection_added"]


def test_cooldown_counts_from_the_last_detection_so_a_long_scream_stays_one_incident(
    make_site, make_sensor, make_detection
):
    sensor = make_sensor(make_site(default_cooldown_s=30, default_threshold=0.5))
    start = timezone.now() - timedelta(minutes=5)

    incidents = {
        _raise(make_detection, sensor, score=0.9, at=start + timedelta(seconds=25 * n), start_s=n) for n in range(5)
    }

    assert len(incidents) == 1
    assert Incident.objects.get().detection_count == 5


def test_detection_after_the_cooldown_opens_a_new_incident(make_site, make_sensor, make_detection):
    sensor = make_sensor(make_site(default_cooldown_s=60, default_threshold=0.5))
    start = timezone.now() - timedelta(minutes=5)

    first = _raise(make_detection, sensor, score=0.9, at=start)
    second = _raise(make_detection, sensor, score=0.9, at=start + timedelta(seconds=61), start_s=2)

    assert second.pk != first.pk
    assert Incident.objects.count() == 2


def test_sensor_cooldown_override_wins_over_the_site_default(make_site, make_sensor, make_detection):
    sensor = make_sensor(make_site(default_cooldown_s=60, default_threshold=0.5), cooldown_override_s=5)
    start = timezone.now() - timedelta(minutes=5)

    first = _raise(make_detection, sensor, score=0.9, at=start)
    second = _raise(make_detection, sensor, score=0.9, at=start + timedelta(seconds=10), start_s=2)

    assert second.pk != first.pk


def test_a_lower_score_joins_without_lowering_peak_or_priority(make_site, make_sensor, make_detection):
    sensor = make_sensor(make_site(default_threshold=0.5))
    now = timezone.now()

    first = _raise(make_detection, sensor, score=0.96, at=now)
    joined = _raise(make_detection, sensor, score=0.55, at=now + timedelta(seconds=1), start_s=2)

    assert joined.peak_score == 0.96
    assert joined.peak_detection_id == first.peak_detection_id
    assert joined.priority == IncidentPriority.CRITICAL


def test_acknowledged_incident_still_collects_detections(make_sensor, make_detection, make_member):
    from alerts.services import incident_acknowledge

    sensor = make_sensor()
    now = timezone.now()
    first = _raise(make_detection, sensor, score=0.9, at=now)
    incident_acknowledge(incident=first, user=make_member(sensor.site, "operator"))

    joined = _raise(make_detection, sensor, score=0.9, at=now + timedelta(seconds=5), start_s=2)

    assert joined.pk == first.pk
    assert joined.status == IncidentStatus.ACKNOWLEDGED


def test_resolved_incident_is_never_joined(make_sensor, make_detection, make_member):
    sensor = make_sensor()
    now = timezone.now()
    first = _raise(make_detection, sensor, score=0.9, at=now)
    incident_resolve(incident=first, user=make_member(sensor.site, "operator"), resolution="test")

    second = _raise(make_detection, sensor, score=0.9, at=now + timedelta(seconds=5), start_s=2)

    assert second.pk != first.pk
    assert second.status == IncidentStatus.NEW


def test_detections_of_another_sensor_never_join(make_site, make_sensor, make_detection):
    site = make_site()
    now = timezone.now()

    first = _raise(make_detection, make_sensor(site), score=0.9, at=now)
    second = _raise(make_detection, make_sensor(site), score=0.9, at=now)

    assert first.pk != second.pk
