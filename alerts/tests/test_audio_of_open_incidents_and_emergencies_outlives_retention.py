"""The retention purge keeps the audio of incidents still open and of confirmed emergencies; the
audio of incidents resolved otherwise goes once it is past retention, and the incident then says so."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Resolution
from alerts.services import incident_acknowledge, incident_resolve
from detection.models import Recording
from detection.services import recordings_purge_expired_audio
from sites.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_incident(make_incident, make_sensor, settings):
    settings.AUDIO_RETENTION_DAYS = 30

    def make():
        incident = make_incident(make_sensor())
        Recording.objects.filter(pk=incident.peak_detection.recording_id).update(
            created_at=timezone.now() - timedelta(days=45)
        )
        return incident

    return make


def audio_deleted(incident) -> bool:
    return Recording.objects.get(pk=incident.peak_detection.recording_id).audio_deleted_at is not None


def test_open_incidents_and_confirmed_emergencies_keep_their_audio(old_incident, make_member):
    new, acknowledged, confirmed, false_alarm, test = (old_incident() for _ in range(5))
    for incident in (acknowledged, confirmed, false_alarm, test):
        operator = make_member(incident.site, Role.OPERATOR)
        incident_acknowledge(incident=incident, user=operator)
    for incident, resolution in ((confirmed, Resolution.CONFIRMED_EMERGENCY), (false_alarm, Resolution.FALSE_ALARM)):
        incident_resolve(incident=incident, user=incident.acknowledged_by, resolution=resolution)
    incident_resolve(incident=test, user=test.acknowledged_by, resolution=Resolution.TEST)

    report = recordings_purge_expired_audio()

    assert (report.held, report.audio_deleted) == (3, 2)
    assert [audio_deleted(incident) for incident in (new, acknowledged, confirmed)] == [False, False, False]
    assert audio_deleted(false_alarm) and audio_deleted(test)


def test_a_resolved_incident_shows_that_its_audio_was_deleted(old_incident, make_member, client_for):
    incident = old_incident()
    operator = make_member(incident.site, Role.OPERATOR)
    incident_resolve(incident=incident, user=operator, resolution=Resolution.FALSE_ALARM)
    recordings_purge_expired_audio()

    evidence = client_for(operator).get(f"/api/v1/incidents/{incident.pk}/").json()["evidence"]

    assert evidence["clip_url"] is None and evidence["audio_deleted_at"] is not None
    assert evidence["detection_id"] == incident.peak_detection_id
