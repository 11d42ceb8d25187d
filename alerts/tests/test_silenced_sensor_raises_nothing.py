from datetime import timedelta

from django.utils import timezone

from alerts.models import Incident
from alerts.services import incident_raise_or_extend
from detection.models import Detection


def test_silenced_sensor_records_the_detection_but_raises_nothing(make_sensor, make_detection):
    sensor = make_sensor(silenced_until=timezone.now() + timedelta(minutes=30))

    detection = make_detection(sensor, peak_score=0.99)

    assert incident_raise_or_extend(detection=detection) is None
    assert Detection.objects.filter(pk=detection.pk).exists()
    assert not Incident.objects.exists()


def test_expired_silence_raises_again(make_sensor, make_detection):
    sensor = make_sensor(silenced_until=timezone.now() - timedelta(seconds=1))

    assert incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.99)) is not None


def test_paused_site_raises_nothing(make_site, make_sensor, make_detection):
    sensor = make_sensor(make_site(status="paused"))

    assert incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.99)) is None


def test_disabled_sensor_raises_nothing(make_sensor, make_detection):
    sensor = make_sensor(enabled=False)

    assert incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.99)) is None
