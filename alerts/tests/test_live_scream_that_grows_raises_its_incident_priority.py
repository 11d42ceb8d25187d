"""A live stream raises its incident at the scream's first window over the threshold, often its
weakest; once the scream has ended its detection holds the true peak, and the incident's score and
priority follow it (never down), with a line on the timeline and a broadcast, so a console plays
the louder sound for an incident that turned critical while still new."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from alerts.models import Incident, IncidentEventKind
from alerts.services import incident_detection_rescored
from detection.models import Detection
from detection.streaming.services import stream_segment_close, stream_segment_open

pytestmark = pytest.mark.django_db

NOISE = np.random.default_rng(3).normal(0, 0.01, 16000 * 8).astype(np.float32)


@pytest.fixture
def sensor(make_site, make_sensor):
    return make_sensor(make_site(default_threshold=0.5))


def open_segment(sensor, *, peak_score: float) -> tuple[int, int]:
    return stream_segment_open(
        sensor_id=sensor.pk,
        samples=NOISE[: 16000 * 4],
        recorded_at=timezone.now() - timedelta(seconds=4),
        onset_s=3.0,
        end_s=4.0,
        peak_score=peak_score,
        mean_score=peak_score,
        model_version="test-model",
        source_sample_rate=16000,
    )


def close_segment(recording_id: int, detection_id: int, *, peak_score: float) -> None:
    stream_segment_close(
        recording_id=recording_id,
        detection_id=detection_id,
        samples=NOISE,
        end_s=6.0,
        peak_score=peak_score,
        mean_score=0.8,
    )


def test_a_scream_that_peaks_after_its_onset_raises_the_incidents_priority(
    sensor, inline_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    broadcasts = []
    monkeypatch.setattr("alerts.services.incident_broadcast", lambda **kwargs: broadcasts.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        recording_id, detection_id = open_segment(sensor, peak_score=0.55)
    incident = Incident.objects.get(detections=detection_id)
    assert (incident.priority, incident.peak_score) == ("low", 0.55)

    with django_capture_on_commit_callbacks(execute=True):
        close_segment(recording_id, detection_id, peak_score=0.97)

    incident.refresh_from_db()
    assert (incident.priority, incident.peak_score, incident.peak_detection_id) == ("critical", 0.97, detection_id)
    event = incident.events.get(kind=IncidentEventKind.DETECTION_RESCORED)
    assert event.text == "The scream went on: its peak reached 0.97, priority raised from low to critical."
    assert event.data == {"detection_id": detection_id, "peak_score": 0.97, "priority": "critical"}
    assert broadcasts[-1]["event"] == event and broadcasts[-1]["incident"].priority == "critical"


def test_a_scream_whose_onset_was_its_peak_changes_nothing(sensor, inline_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recording_id, detection_id = open_segment(sensor, peak_score=0.9)
    with django_capture_on_commit_callbacks(execute=True):
        close_segment(recording_id, detection_id, peak_score=0.7)

    incident = Incident.objects.get(detections=detection_id)
    assert (incident.priority, incident.peak_score) == ("high", 0.9)
    assert not incident.events.filter(kind=IncidentEventKind.DETECTION_RESCORED).exists()
    assert Detection.objects.get(pk=detection_id).peak_score == 0.9


def test_priority_never_goes_down_and_a_higher_peak_elsewhere_is_kept(make_incident, make_detection):
    incident = make_incident(peak_score=0.96)  # critical
    weaker = make_detection(incident.sensor, peak_score=0.6, start_s=2.0)
    incident.detections.add(weaker)
    weaker.peak_score = 0.9  # rose, but not above the incident's peak
    weaker.save()

    assert incident_detection_rescored(detection=weaker) is None
    incident.refresh_from_db()
    assert (incident.priority, incident.peak_score) == ("critical", 0.96)


def test_a_detection_that_raised_no_incident_is_ignored(make_detection, make_sensor):
    detection = make_detection(make_sensor(), peak_score=0.99)

    assert incident_detection_rescored(detection=detection) is None
    assert not Incident.objects.exists()
