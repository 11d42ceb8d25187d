from alerts.models import Incident, IncidentEvent, IncidentPriority, IncidentStatus
from alerts.services import incident_raise_or_extend


def test_detection_over_threshold_opens_a_new_incident_with_an_opened_event(make_sensor, make_detection):
    sensor = make_sensor()
    detection = make_detection(sensor, peak_score=0.9)

    incident = incident_raise_or_extend(detection=detection)

    assert incident.status == IncidentStatus.NEW
    assert (incident.site, incident.sensor) == (sensor.site, sensor)
    assert incident.peak_score == 0.9 and incident.peak_detection == detection
    assert incident.detection_count == 1
    assert list(incident.detections.all()) == [detection]
    assert incident.last_detection_at == detection.occurred_at
    assert incident.opened_at >= detection.occurred_at  # when it was raised
    assert incident.priority == IncidentPriority.HIGH
    assert list(IncidentEvent.objects.filter(incident=incident).values_list("kind", "to_status", "actor")) == [
        ("opened", "new", None)
    ]


def test_detection_under_threshold_raises_nothing(make_site, make_sensor, make_detection):
    sensor = make_sensor(make_site(default_threshold=0.7))

    assert incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.69)) is None
    assert not Incident.objects.exists()


def test_sensor_threshold_override_wins_over_the_site_default(make_site, make_sensor, make_detection):
    sensor = make_sensor(make_site(default_threshold=0.5), threshold_override=0.8)

    assert incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.75)) is None
    assert incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.8, start_s=3)) is not None


def test_the_same_detection_raised_twice_changes_nothing(make_detection):
    detection = make_detection(peak_score=0.9)

    first = incident_raise_or_extend(detection=detection)
    again = incident_raise_or_extend(detection=detection)

    assert again == first
    assert Incident.objects.get().detection_count == 1
    assert IncidentEvent.objects.count() == 1


def test_detections_stored_signal_raises_incidents(make_sensor, make_detection):
    from detection.signals import detections_stored

    sensor = make_sensor()
    detection = make_detection(sensor, peak_score=0.97)

    detections_stored.send_robust(sender=None, recording=detection.recording, detections=[detection])

    incident = Incident.objects.get(sensor=sensor)
    assert incident.priority == IncidentPriority.CRITICAL


def test_an_old_recording_opens_its_incident_now_so_it_does_not_escalate_at_once(make_detection):
    from datetime import timedelta

    from django.utils import timezone

    heard = timezone.now() - timedelta(days=2)

    incident = incident_raise_or_extend(detection=make_detection(peak_score=0.9, occurred_at=heard))

    assert incident.last_detection_at == heard
    assert timezone.now() - incident.opened_at < timedelta(seconds=5)


def test_one_failing_detection_does_not_keep_the_others_from_alerting(make_sensor, make_detection, monkeypatch):
    from alerts import receivers
    from detection.signals import detections_stored

    sensor = make_sensor()
    broken, fine = make_detection(sensor, peak_score=0.9), make_detection(sensor, peak_score=0.9, start_s=5)
    real = receivers.incident_raise_or_extend

    def flaky(*, detection):
        if detection.pk == broken.pk:
            raise RuntimeError("boom")
        return real(detection=detection)

    monkeypatch.setattr(receivers, "incident_raise_or_extend", flaky)

    detections_stored.send_robust(sender=None, recording=fine.recording, detections=[broken, fine])

    assert list(Incident.objects.get().detections.all()) == [fine]
